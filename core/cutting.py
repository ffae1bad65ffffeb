"""Cutting a full network into a body: by index over its children, a registered cut, or a callable."""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable

from torch import nn

from graftzoo.errors import ConfigError, UnknownNameError
from graftzoo.imports import import_attr
from graftzoo.spec import is_cut_name

UNNAMEABLE_CUT = (
    "the body was cut with a callable, which a saved head cannot name: register it as a [[cuts]] entry "
    "in a plugin manifest and pass its name (cut='namespace/name'), or cut at an int index"
)
POOL_TYPES = (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.AvgPool2d, nn.MaxPool2d)


def cut_model(model: nn.Module, cut: int | str | Callable[[nn.Module], nn.Module] | None) -> nn.Module:
    """The body of `model`: children before index `cut` (names kept), or `cut(model)`.

    A string is the name of a cut a plugin registered (`graftzoo list --kind cuts`); it is looked
    up in the registry and never imported as a path, so configs and saved heads cannot name code.
    With `cut=None`, cut before the last pooling layer among the children, as fastai does.
    """
    if isinstance(cut, str):
        cut = registered_cut(cut)
    if callable(cut):
        return cut(model)
    children = list(model.named_children())
    if cut is None:
        pools = [i for i, (_, child) in enumerate(children) if _has_pool(child)]
        if not pools:
            raise ConfigError("cannot find where to cut this model (no pooling layer): pass cut=<int or callable>")
        cut = pools[-1]
    if not isinstance(cut, int) or isinstance(cut, bool):
        raise ConfigError(f"cut must be an int, a registered cut name or a callable, got {cut!r}")
    kept = children[:cut]
    if not kept:
        raise ConfigError(f"cut={cut} leaves nothing of a model with {len(children)} children")
    return nn.Sequential(OrderedDict(kept))


def registered_cut(name: str) -> Callable[[nn.Module], nn.Module]:
    """The cut function registered under `name`, or a ConfigError; `"module:attr"` paths are refused."""
    if not is_cut_name(name):
        raise ConfigError(
            f"cut {name!r} is neither an int nor a registered cut name: a cut never names code to import. "
            "Use an int, a name from `graftzoo list --kind cuts`, or (in Python) pass the function itself."
        )
    from graftzoo.registry import current

    try:
        spec = current().get("cuts", name)
    except UnknownNameError as exc:
        raise ConfigError(f"unknown cut {name!r}: {exc}") from exc
    cut: Callable[[nn.Module], nn.Module] = import_attr(spec.factory)
    return cut


def _has_pool(module: nn.Module) -> bool:
    return any(isinstance(m, POOL_TYPES) for m in module.modules())
