"""Grafting heads onto bodies: `graft`, `from_config` and the `GraftedModel` they return."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from graftzoo.body import Body
from graftzoo.building import arch_spec, body_inputs, create_body, weights_ref
from graftzoo.head import Head
from graftzoo.inputs import InputSpec
from graftzoo.model_config import ModelConfig
from graftzoo.spec import ArchSpec
from graftzoo.splitter import Splitter, check_split
from graftzoo.task import Task

__all__ = ["GraftedModel", "create_body", "from_config", "graft", "weights_ref"]


class GraftedModel(nn.Module):
    """A body with a head grafted on, its task, and the JSON config that rebuilds it."""

    def __init__(self, body: Body, head: Head, *, task: Task, config: ModelConfig, splitter: Splitter | None = None) -> None:
        super().__init__()
        self.body = body
        self.head = head
        self.task = task
        self.model_config = config
        self.splitter = splitter
        self.vocab: list[str] | None = None  # class names, set by load_head (or by you)
        self.preprocessor: Any = None  # raw items -> inputs; set by load_head or a Learner (see graftzoo.Preprocessor)
        self.artifact_info: dict[str, Any] | None = None  # the graftzoo.json it was loaded from

    @property
    def config(self) -> dict[str, Any]:
        """The plain-JSON config that rebuilds this model (`from_config(model.config)`)."""
        return self.model_config.to_json()

    @property
    def inputs(self) -> InputSpec:
        return self.model_config.inputs

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.head.graft_forward(self.body, *inputs)

    @property
    def stats(self) -> Any:
        return self.body.stats

    def predict(self, inputs: Any) -> tuple[Any, torch.Tensor]:
        """(labels, probabilities) for raw items (image paths, texts, rows...); see `graftzoo.artifacts.predict`."""
        from graftzoo.artifacts.predict import predict

        return predict(self, inputs)

    def save_head(self, folder: Any, **kwargs: Any) -> Any:
        """Save the head and the body tensors training changed to `folder`; see `graftzoo.artifacts.save_head`."""
        from graftzoo.artifacts.save import save_head

        return save_head(self, folder, **kwargs)

    @property
    def adapters(self) -> dict[str, Any] | None:
        """The LoRA settings on the body (`LoRA.to_json()` with the exact layer names), None for a plain body."""
        return self.model_config.adapters

    def add_adapters(self, adapters: Any) -> Any:
        """Put LoRA adapters (a `graftzoo.adapters.LoRA`) on the body in place; see `graftzoo.adapters`."""
        from graftzoo.adapters.attach import add_adapters

        return add_adapters(self, adapters)

    def merge(self) -> GraftedModel:
        """A plain copy with the adapters folded into their layers (same outputs), e.g. for export."""
        from graftzoo.adapters.attach import merge

        merged: GraftedModel = merge(self)
        return merged

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
    n_in: int | None = None,
    inputs: InputSpec | dict[str, Any] | None = None,
    cut: Any = None,
    task: str | None = None,
    head_kwargs: dict[str, Any] | None = None,
    body_kwargs: dict[str, Any] | None = None,
    adapters: Any = None,
    **kwargs: Any,
) -> GraftedModel:
    """Cut `arch` into a body and graft the head kind `head` (registry name) with `n_out` outputs.

    The body is built for `inputs` (an InputSpec or its JSON), or `n_in` image channels, with the
    arch's settings `body_kwargs`. Head kwargs go in `head_kwargs` (any name, even `weights` or
    `cut`) or, as a shorthand, as extra keyword arguments. `adapters` (a `graftzoo.adapters.LoRA`)
    puts LoRA adapters on the body: only they, BatchNorm and the head train then.
    """
    from graftzoo.assembly import assemble
    from graftzoo.registry import current

    spec = arch_spec(arch)
    head_spec = current().get("heads", head)
    config = ModelConfig(
        arch=spec.name, head=head_spec.name, n_out=n_out, task=task or head_spec.task or "core/classification",
        weights=weights_ref(spec, weights), inputs=body_inputs(spec, inputs, n_in), cut=cut,
        head_kwargs={**(head_kwargs or {}), **kwargs}, body_kwargs=dict(body_kwargs or {}),
        adapters=_adapters_json(adapters),
    )
    model: GraftedModel = assemble(config, arch=spec)
    return model


def from_config(config: dict[str, Any] | ModelConfig, weights: str | None | bool = True) -> GraftedModel:
    """Rebuild a grafted model from its `config`; `weights=False` skips loading the body's weights."""
    from graftzoo.assembly import assemble

    parsed = ModelConfig.from_json(config)
    if weights is not True:
        parsed = parsed.replace(weights=None if weights is False else weights)
    model: GraftedModel = assemble(parsed)
    return model


def _adapters_json(adapters: Any) -> dict[str, Any] | None:
    """`LoRA` settings (or their JSON) as the JSON a ModelConfig stores."""
    if adapters is None:
        return None
    from graftzoo.adapters.lora import LoRA

    return LoRA.from_json(adapters).to_json()
