"""Parameter groups for discriminative learning rates: where they come from and their checks."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from torch import nn

from graftzoo.errors import SplitError

__all__ = ["Splitter", "resolve_param_groups", "check_param_groups"]

Splitter = Callable[[nn.Module], Iterable[Iterable[nn.Parameter]]]


def _as_params(group: Any) -> list[nn.Parameter]:
    if isinstance(group, dict):  # a torch-style {"params": [...]} group
        group = group["params"]
    if isinstance(group, nn.Module):
        group = group.parameters()
    return list(group)


def resolve_param_groups(model: nn.Module, splitter: Splitter | None) -> tuple[list[list[nn.Parameter]], bool]:
    """The parameter groups of `model` and whether they came from a split.

    `splitter(model)` wins; else the model's own `param_groups()` (graftzoo's
    GraftedModel has one: body groups then head groups); else one group of all
    parameters. Split groups are checked with `check_param_groups`.
    """
    param_groups = getattr(model, "param_groups", None)
    if splitter is not None:
        raw, source = splitter(model), "the splitter"
    elif callable(param_groups):
        raw, source = param_groups(), f"{type(model).__name__}.param_groups()"
    else:
        return [list(model.parameters())], False
    groups = [_as_params(g) for g in raw]
    check_param_groups(model, groups, source)
    return groups, True


def check_param_groups(model: nn.Module, groups: list[list[nn.Parameter]], source: str = "the splitter") -> None:
    """Raise SplitError unless `groups` (at least two, none empty) hold every trainable
    parameter of `model` exactly once and nothing that is not a parameter of `model`."""
    if len(groups) < 2:
        raise SplitError(
            f"{source} returned {len(groups)} parameter group(s); a split needs at least two "
            "(body and head). Return more groups, or pass no splitter to train the model as one group."
        )
    owned = {id(p): n for n, p in model.named_parameters()}
    seen: dict[int, int] = {}
    for i, group in enumerate(groups):
        if not group:
            raise SplitError(f"parameter group {i} from {source} is empty; drop it or give it parameters.")
        for p in group:
            if not isinstance(p, nn.Parameter) or id(p) not in owned:
                raise SplitError(
                    f"parameter group {i} from {source} holds a tensor that is not a parameter of the "
                    "model; build the groups from model.parameters()."
                )
            if id(p) in seen:
                raise SplitError(
                    f"parameter {owned[id(p)]!r} is in groups {seen[id(p)]} and {i} from {source}; "
                    "put every parameter in exactly one group."
                )
            seen[id(p)] = i
    missing = [n for n, p in model.named_parameters() if p.requires_grad and id(p) not in seen]
    if missing:
        shown = ", ".join(repr(n) for n in missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise SplitError(
            f"{len(missing)} trainable parameter(s) are in no group from {source}: {shown}; "
            "add them to a group (or set requires_grad=False on purpose before building the Learner)."
        )
