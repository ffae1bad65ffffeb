"""Building a body from the registry as a sequence of named steps a plugin can override one at a time.

    factory  (spec, inputs, weights, **body_kwargs) -> nn.Module   the full network, random weights
    weights  (model, ref, spec) -> None                 load the weight source's tensors
    adapt    (model, spec, inputs, pretrained) -> None  fit the stem to the inputs (first conv for images)
    body     (model, spec, inputs, weights, cut) -> Body   cut before the classifier and wrap

An arch's manifest entry names overrides under `steps` (`{adapt = "pkg.mod:fn"}`); the defaults
below serve every plain `nn.Module` network. A weight source that can build a whole body from a
reference (`head://`: a trained body from a saved head) does so instead of these steps.
"""

from __future__ import annotations

from typing import Any, Callable

from torch import nn

from graftzoo.body import Body
from graftzoo.cutting import cut_model
from graftzoo.errors import ConfigError
from graftzoo.first_layer import adapt_first_conv
from graftzoo.head import check_json_kwargs
from graftzoo.imports import import_attr
from graftzoo.inputs import InputSpec
from graftzoo.spec import ArchSpec
from graftzoo.splitter import split_children
from graftzoo.weights import load_weights, split_ref, weight_source

STEPS = ("factory", "weights", "adapt", "body")


def arch_spec(arch: str | ArchSpec) -> ArchSpec:
    """`arch` itself, or the registered arch of that name."""
    if isinstance(arch, ArchSpec):
        return arch
    from graftzoo.registry import get_arch

    return get_arch(arch)


def weights_ref(spec: ArchSpec, weights: str | None) -> str | None:
    """`"default"` means the arch's default weights (None when it has none)."""
    return spec.default_weights if weights == "default" else weights


def body_inputs(spec: ArchSpec, inputs: InputSpec | dict[str, Any] | None, n_in: int | None) -> InputSpec:
    """The InputSpec to build for: `inputs`, else the `n_in` image shorthand, else the arch's own."""
    if inputs is not None:
        spec_inputs = InputSpec.from_json(inputs)
        if n_in is not None and spec_inputs.n_in != n_in:
            raise ConfigError(f"n_in={n_in} contradicts inputs {spec_inputs.to_json()}: pass one of them")
        if spec_inputs.kind != spec.inputs:
            raise ConfigError(f"{spec.name} consumes {spec.inputs!r} inputs, not {spec_inputs.kind!r}")
        return spec_inputs
    if spec.inputs != InputSpec.image().kind:
        raise ConfigError(f"{spec.name} consumes {spec.inputs!r} inputs: pass inputs={{'kind': {spec.inputs!r}, ...}}")
    return InputSpec.image(spec.n_in if n_in is None else n_in)


def create_body(
    arch: str | ArchSpec,
    weights: str | None = None,
    n_in: int | None = None,
    cut: int | str | Callable[[nn.Module], nn.Module] | None = None,
    inputs: InputSpec | dict[str, Any] | None = None,
    body_kwargs: dict[str, Any] | None = None,
) -> Body:
    """Build `arch`, load `weights`, adapt it to `inputs` (or `n_in` image channels) and cut it into a body.

    `body_kwargs` are the arch's settings (plain JSON, checked against its `kwargs_schema`), given
    to its factory step: e.g. a tabular body's `layers`, an AWD-LSTM's sizes.
    """
    spec = arch_spec(arch)
    spec_inputs = body_inputs(spec, inputs, n_in)
    settings = check_json_kwargs(body_kwargs or {}, spec.name, spec.kwargs_schema, what="arch")
    ref = weights_ref(spec, weights)
    if ref is not None:
        source = weight_source(split_ref(ref)[0])
        build = getattr(source, "build_body", None)
        if callable(build):
            body: Body = build(ref, spec, spec_inputs, cut, settings)  # keeps the settings it was trained with
            return body
    if spec.body is not None:
        built: Body = import_attr(spec.body)(spec, weights=ref, inputs=spec_inputs, cut=cut, **settings)
        built.settings = settings
        return built
    model = step(spec, "factory")(spec, spec_inputs, ref, **settings)
    if ref is not None:
        step(spec, "weights")(model, ref, spec)
    step(spec, "adapt")(model, spec, spec_inputs, ref is not None)
    result: Body = step(spec, "body")(model, spec, spec_inputs, ref, cut)
    result.settings = settings
    return result


def step(spec: ArchSpec, name: str) -> Callable[..., Any]:
    """The arch's override of build step `name`, or the default."""
    if name not in STEPS:
        raise ConfigError(f"unknown build step {name!r}; the steps are {list(STEPS)}")
    override = spec.steps.get(name)
    return import_attr(override) if override else DEFAULT_STEPS[name]


def build_network(spec: ArchSpec, inputs: InputSpec, weights: str | None = None, **body_kwargs: Any) -> nn.Module:
    """Default `factory` step: the arch's factory with its registered kwargs and the user's `body_kwargs`."""
    model: nn.Module = import_attr(spec.factory)(**{**spec.factory_kwargs, **body_kwargs})
    return model


def adapt_channels(model: nn.Module, spec: ArchSpec, inputs: InputSpec, pretrained: bool) -> None:
    """Default `adapt` step: a first convolution for another number of channels (fastai's rule)."""
    if inputs.n_in is not None and inputs.n_in != spec.n_in:
        adapt_first_conv(model, inputs.n_in, pretrained=pretrained)


def cut_body(model: nn.Module, spec: ArchSpec, inputs: InputSpec, weights: str | None, cut: Any) -> Body:
    """Default `body` step: cut at the arch's cut (or the user's) and wrap with the arch's split."""
    net = cut_model(model, spec.cut if cut is None else cut)
    custom_cut = cut is not None and cut != spec.cut
    split = split_children if spec.split is None or custom_cut else import_attr(spec.split)
    return Body(net, spec=spec, weights=weights, inputs=inputs, cut=cut, split=split,
                num_features=None if custom_cut else spec.num_features)


DEFAULT_STEPS: dict[str, Callable[..., Any]] = {
    "factory": build_network,
    "weights": load_weights,
    "adapt": adapt_channels,
    "body": cut_body,
}
