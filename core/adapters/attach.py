"""Adapters on a whole grafted model: `add_adapters` (in place) and `merge` (a plain copy for export)."""

from __future__ import annotations

import copy
from typing import Any

from graftzoo.adapters.lora import LoRA
from graftzoo.adapters.peft_layers import inject, merge_layers
from graftzoo.adapters.trainable import has_adapters
from graftzoo.errors import ConfigError


def add_adapters(model: Any, adapters: LoRA | dict[str, Any]) -> LoRA:
    """Put LoRA adapters on `model`'s body (in place) and record them in its config; the resolved settings."""
    lora = inject(model.body, LoRA.from_json(adapters))
    model.model_config = model.model_config.replace(adapters=lora.to_json())
    return lora


def merge(model: Any) -> Any:
    """A copy of `model` with every adapter folded into its layer: a plain GraftedModel, same outputs.

    The copy's config has no adapters; saving it stores the changed body tensors as a full fine-tune does.
    """
    if not has_adapters(model.body):
        raise ConfigError("the model has no adapters to merge; it is already a plain model")
    merged = copy.deepcopy(model)
    merge_layers(merged.body.net)
    merged.body.keep_bn_statistics = False  # a plain model: its BatchNorm trains as any other's
    merged.body.train(merged.body.training)
    for p in merged.parameters():
        p.requires_grad_(True)
    merged.model_config = merged.model_config.replace(adapters=None)
    if merged.artifact_info is not None:
        merged.artifact_info = {k: v for k, v in merged.artifact_info.items() if k != "adapters"}
    return merged
