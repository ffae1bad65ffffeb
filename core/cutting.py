"""Cutting a full network into a body: by index over its children, or with a callable."""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable

from torch import nn

from graftzoo.errors import ConfigError
from graftzoo.imports import import_attr

POOL_TYPES = (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.AvgPool2d, nn.MaxPool2d)


def cut_model(model: nn.Module, cut: int | str | Callable[[nn.Module], nn.Module] | None) -> nn.Module:
    """The body of `model`: children before index `cut` (names kept), or `cut(model)`.

    With `cut=None`, cut before the last pooling layer among the children, as fastai does.
    """
    if isinstance(cut, str):
        cut = import_attr(cut)
    if callable(cut):
        return cut(model)
    children = list(model.named_children())
    if cut is None:
        pools = [i for i, (_, child) in enumerate(children) if _has_pool(child)]
        if not pools:
            raise ConfigError("cannot find where to cut this model (no pooling layer): pass cut=<int or callable>")
        cut = pools[-1]
    if not isinstance(cut, int):
        raise ConfigError(f"cut must be an int, a callable or a 'module:attr' string, got {cut!r}")
    kept = children[:cut]
    if not kept:
        raise ConfigError(f"cut={cut} leaves nothing of a model with {len(children)} children")
    return nn.Sequential(OrderedDict(kept))


def _has_pool(module: nn.Module) -> bool:
    return any(isinstance(m, POOL_TYPES) for m in module.modules())
