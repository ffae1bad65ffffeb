"""Building bodies from the registry and grafting heads onto them."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from graftzoo.body import Body
from graftzoo.cutting import cut_model
from graftzoo.errors import ConfigError
from graftzoo.first_layer import adapt_first_conv
from graftzoo.head import Head, check_json_kwargs
from graftzoo.imports import import_attr
from graftzoo.spec import ArchSpec
from graftzoo.splitter import Splitter, check_split, split_children
from graftzoo.task import Task
from graftzoo.weights import load_weights

CONFIG_KEYS = ("arch", "weights", "n_in", "cut", "head", "n_out", "head_kwargs", "task")


def _arch_spec(arch: str | ArchSpec) -> ArchSpec:
    if isinstance(arch, ArchSpec):
        return arch
    from graftzoo.registry import get_arch

    return get_arch(arch)


def weights_ref(spec: ArchSpec, weights: str | None) -> str | None:
    """`"default"` means the arch's default weights (None when it has none)."""
    return spec.default_weights if weights == "default" else weights


def create_body(arch: str | ArchSpec, weights: str | None = None, n_in: int = 3, cut: int | str | None = None) -> Body:
    """Build `arch`, load `weights` into it, cut it before its classifier and adapt it to `n_in` channels."""
    spec = _arch_spec(arch)
    ref = weights_ref(spec, weights)
    if spec.body is not None:
        return import_attr(spec.body)(spec, weights=ref, n_in=n_in, cut=cut)
    model = import_attr(spec.factory)(**spec.factory_kwargs)
    if ref is not None:
        load_weights(model, ref, spec)
    net = cut_model(model, spec.cut if cut is None else cut)
    if n_in != spec.n_in:
        adapt_first_conv(net, n_in, pretrained=ref is not None)
    custom_cut = cut is not None and cut != spec.cut
    return Body(
        net, spec=spec, weights=ref, n_in=n_in, cut=cut,
        split=_body_split(spec, custom_cut),
        num_features=None if custom_cut else spec.num_features,
    )


def _body_split(spec: ArchSpec, custom_cut: bool) -> Any:
    """The arch's split, or an even split of the body's children when the user cut elsewhere."""
    if spec.split is None or custom_cut:
        return split_children
    return import_attr(spec.split)


class GraftedModel(nn.Module):
    """A body with a head grafted on, its task, and the JSON config that rebuilds it."""

    def __init__(self, body: Body, head: Head, *, task: Task, config: dict[str, Any], splitter: Splitter | None = None) -> None:
        super().__init__()
        self.body = body
        self.head = head
        self.task = task
        self.config = config
        self.splitter = splitter
        self.vocab: list[str] | None = None  # class names, set by load_head (or by you)
        self.artifact_info: dict[str, Any] | None = None  # the graftzoo.json it was loaded from

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.head.graft_forward(self.body, *inputs)

    @property
    def stats(self) -> Any:
        return self.body.stats

    def predict(self, inputs: Any) -> tuple[Any, torch.Tensor]:
        """(labels, probabilities) for image paths, PIL images or tensors; see `graftzoo.artifacts.predict`."""
        from graftzoo.artifacts.predict import predict

        return predict(self, inputs)

    def save_head(self, folder: Any, **kwargs: Any) -> Any:
        """Save the head and the body tensors training changed to `folder`; see `graftzoo.artifacts.save_head`."""
        from graftzoo.artifacts.save import save_head

        return save_head(self, folder, **kwargs)

    def param_groups(self) -> list[list[nn.Parameter]]:
        """Body groups (earliest first) then head groups, checked to cover every parameter once."""
        groups = self.splitter(self) if self.splitter else self.head.split(self.body)
        return check_split(self, groups)


def graft(
    arch: str | ArchSpec,
    head: str = "classify",
    *,
    n_out: int,
    weights: str | None = None,
    n_in: int = 3,
    cut: int | str | None = None,
    task: str | None = None,
    **head_kwargs: Any,
) -> GraftedModel:
    """Cut `arch` into a body and graft the head kind `head` (registry name) with `n_out` outputs."""
    from graftzoo.registry import current

    registry = current()
    spec = _arch_spec(arch)
    head_spec = registry.get("heads", head)
    if not isinstance(n_out, int) or n_out < 1:
        raise ConfigError(f"n_out must be a positive int (the number of outputs/classes), got {n_out!r}")
    kwargs = check_json_kwargs(head_kwargs, head_spec.name, head_spec.kwargs_schema)
    task_spec = registry.get("tasks", task or head_spec.task or "core/classification")
    body = create_body(spec, weights=weights, n_in=n_in, cut=cut)
    head_module = import_attr(head_spec.factory)(body, n_out, **kwargs)
    config = {
        "arch": spec.name,
        "weights": body.weights,
        "n_in": n_in,
        "cut": cut,
        "head": head_spec.name,
        "n_out": n_out,
        "head_kwargs": kwargs,
        "task": task_spec.name,
    }
    return GraftedModel(body, head_module, task=import_attr(task_spec.factory)(), config=config)


def from_config(config: dict[str, Any], weights: str | None | bool = True) -> GraftedModel:
    """Rebuild a grafted model from its `config`; `weights=False` skips loading the body's weights."""
    missing = [k for k in CONFIG_KEYS if k not in config]
    if missing:
        raise ConfigError(f"model config lacks {missing}; it needs {list(CONFIG_KEYS)}")
    body_weights = config["weights"] if weights is True else (None if weights is False else weights)
    return graft(
        config["arch"], config["head"], n_out=config["n_out"], weights=body_weights,
        n_in=config["n_in"], cut=config["cut"], task=config["task"], **config["head_kwargs"],
    )
