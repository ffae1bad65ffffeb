"""What trains in a body with adapters: the adapters, and BatchNorm unless it stays frozen; every other body weight is locked."""

from __future__ import annotations

from typing import Any

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from graftzoo.adapters.lora import LEGACY_BATCH_NORM

ADAPTER_MARK = ".lora_"
"""Part of the name of every adapter tensor peft adds (`conv.lora_A.default.weight`)."""


def is_adapter_key(name: str) -> bool:
    """Whether the parameter or state-dict key `name` belongs to a LoRA adapter."""
    return ADAPTER_MARK in name or name.startswith(ADAPTER_MARK[1:])


def has_adapters(module: nn.Module) -> bool:
    """Whether `module` holds LoRA adapter parameters."""
    return any(is_adapter_key(name) for name, _ in module.named_parameters())


def locked_param_ids(model: Any) -> set[int]:
    """Ids of the body parameters adapters keep frozen; empty without adapters.

    Every body parameter but the adapters', and but BatchNorm's unless the adapters' `batch_norm`
    setting is `frozen`.
    """
    body = getattr(model, "body", None)
    if not isinstance(body, nn.Module) or not has_adapters(body):
        return set()
    adapters = getattr(model, "adapters", None) or {}
    return _locked(body, adapters.get("batch_norm", LEGACY_BATCH_NORM))


def mark_trainable(body: nn.Module, batch_norm: str) -> None:
    """Adapters (and BatchNorm unless `frozen`) trainable, every other body parameter frozen (what `freeze_to(0)` also gives)."""
    locked = _locked(body, batch_norm)
    for p in body.parameters():
        p.requires_grad_(id(p) not in locked)
        if id(p) in locked:
            p.grad = None


def _locked(body: nn.Module, batch_norm: str) -> set[int]:
    norm = set() if batch_norm == "frozen" else {
        id(p) for m in body.modules() if isinstance(m, _BatchNorm) for p in m.parameters(recurse=False)}
    return {id(p) for name, p in body.named_parameters() if not is_adapter_key(name) and id(p) not in norm}
