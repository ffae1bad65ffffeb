"""Building a graftzoo Body from a timm model, as overrides of graftzoo's build steps (factory, adapt, body).

A model whose `forward_features` is a spatial map gives a map body (channels-last maps are
permuted to (B, C, H, W)); any other (tokens, lists) gives a pooled body through timm's own
`forward_head(..., pre_logits=True)`. Modules the body never calls (the classifier, head-side
layers of map bodies) are removed, so every parameter of the body is trained.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from torch import nn

from graftzoo.body import Body
from graftzoo.cutting import cut_model
from graftzoo.errors import ConfigError
from graftzoo.imports import import_attr
from graftzoo.inputs import InputSpec
from graftzoo.spec import ArchSpec
from graftzoo.splitter import split_children
from graftzoo_timm.features import TimmFeatureMap, TimmPooled
from graftzoo_timm.probe import CHANNELS_LAST, POOLED, FeatureProbe, probe_model
from graftzoo_timm.split import timm_split
from graftzoo_timm.stem import adapt_input_convs
from graftzoo_timm.weights import model_kwargs

MODEL_ATTR = "model"  # where the timm model sits inside the body's net: feature_info names start with it


def create_model(spec: ArchSpec, inputs: InputSpec, weights: str | None = None) -> nn.Module:
    """`factory` step: the full timm model, randomly initialised (weights are loaded by graftzoo's weight sources)."""
    kwargs = {**spec.factory_kwargs, "pretrained": False, **model_kwargs(weights)}
    model: nn.Module = import_attr(spec.factory)(**kwargs)
    return model


def adapt_stem(model: nn.Module, spec: ArchSpec, inputs: InputSpec, pretrained: bool) -> None:
    """`adapt` step: every image-reading conv timm names takes `inputs.n_in` channels."""
    if inputs.n_in is not None and inputs.n_in != spec.n_in:
        adapt_input_convs(model, inputs.n_in, pretrained=pretrained)


def timm_body(model: nn.Module, spec: ArchSpec, inputs: InputSpec, weights: str | None, cut: Any = None) -> Body:
    """`body` step: a user's cut as asked, else probe the model and keep its feature map (or pooled features)."""
    n_in = inputs.n_in or spec.n_in
    if cut is not None:
        net = cut_model(model, cut)
        return Body(net, spec=dataclasses.replace(spec, pooled=False), weights=weights, inputs=inputs, cut=cut, split=split_children)
    try:
        probe = probe_model(model, (n_in, *spec.input_size[1:]), spec.probe_size)
    except ConfigError as exc:
        if n_in == spec.n_in:
            raise
        raise ConfigError(f"{spec.name} does not run with n_in={n_in} ({exc}); its stem may need {spec.n_in} channels: "
                          f"use n_in={spec.n_in} and repeat or pad your channels") from exc
    drop_modules(model, probe.unused)
    pooled = probe.layout == POOLED
    net = TimmPooled(model) if pooled else TimmFeatureMap(model, channels_last=probe.layout == CHANNELS_LAST)
    return Body(
        net, spec=dataclasses.replace(spec, pooled=pooled), weights=weights, inputs=inputs, cut=None,
        split=timm_split, num_features=probe.num_features, feature_info=feature_info(model, probe),
    )


def drop_modules(model: nn.Module, names: tuple[str, ...]) -> None:
    """Replace the named submodules by `nn.Identity` (they hold tensors the body never uses)."""
    for name in names:
        parent_name, _, attr = name.rpartition(".")
        setattr(model.get_submodule(parent_name), attr, nn.Identity())


def feature_info(model: nn.Module, probe: FeatureProbe) -> list[dict[str, Any]] | None:
    """timm's stages (channels, reduction, module name inside the body's net) for map bodies.

    Pooled bodies have one entry without spatial reduction, as graftzoo's own probe reports.
    Channels-last models' stage outputs are (B, H, W, C): their entries say `"layout": "NHWC"`.
    None (the Body probes itself) when timm lists no stages.
    """
    if probe.layout == POOLED:
        return [{"module": "", "num_chs": probe.num_features, "reduction": 0}]
    stages = getattr(model, "feature_info", None) or []
    extra = {"layout": "NHWC"} if probe.layout == CHANNELS_LAST else {}
    info = [
        {"module": f"{MODEL_ATTR}.{s['module']}" if s.get("module") else MODEL_ATTR, "num_chs": int(s["num_chs"]),
         "reduction": int(s["reduction"]), **extra}
        for s in stages if isinstance(s, dict) and "num_chs" in s and "reduction" in s
    ]
    return info or None
