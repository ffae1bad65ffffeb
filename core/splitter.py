"""Splitters divide a model's parameters into groups; checking that a split is a real one."""

from __future__ import annotations

from typing import Callable

from torch import nn

from graftzoo.errors import SplitError

Splitter = Callable[[nn.Module], list[list[nn.Parameter]]]


def check_split(model: nn.Module, groups: list[list[nn.Parameter]]) -> list[list[nn.Parameter]]:
    """Return `groups` if they cover every parameter of `model` exactly once in two or more groups.

    fastai silently trains with one group when a split is wrong; here that is an error.
    """
    groups = [list(g) for g in groups if len(g)]
    if len(groups) < 2:
        raise SplitError(
            f"the splitter made {len(groups)} non-empty group(s); discriminative learning rates and freezing "
            "need at least two (body and head). Check the arch's split, or pass a splitter that returns more groups."
        )
    owner: dict[int, int] = {}
    for index, group in enumerate(groups):
        for param in group:
            if id(param) in owner:
                raise SplitError(f"a parameter is in groups {owner[id(param)]} and {index}; each must be in exactly one")
            owner[id(param)] = index
    names = {id(p): n for n, p in model.named_parameters()}
    missing = [names[i] for i in names if i not in owner]
    if missing:
        raise SplitError(f"the split misses {len(missing)} parameter(s), e.g. {missing[:3]}; every parameter must be in one group")
    strangers = [i for i in owner if i not in names]
    if strangers:
        raise SplitError(f"the split holds {len(strangers)} parameter(s) that are not in the model")
    return groups


def split_by_names(net: nn.Module, groups: list[list[str]]) -> list[list[nn.Module]]:
    """Body groups given by submodule names (`[["conv1", "layer1"], ["layer2"]]`)."""
    try:
        return [[net.get_submodule(name) for name in group] for group in groups]
    except AttributeError as exc:
        raise SplitError(f"the body has no submodule named as the split expects ({exc}); was it cut differently?") from exc


def split_children(net: nn.Module, n_groups: int = 2) -> list[list[nn.Module]]:
    """Split the body's direct children into `n_groups` runs of about equal parameter count."""
    children = [child for _, child in net.named_children() if any(True for _ in child.parameters())]
    if len(children) < n_groups:
        raise SplitError(f"the body has {len(children)} children with parameters; cannot make {n_groups} groups")
    sizes = [sum(p.numel() for p in child.parameters()) for child in children]
    total, running, bounds = sum(sizes), 0, [0]
    for index, size in enumerate(sizes):
        running += size
        wanted = len(bounds)  # the boundary we are looking for next
        if wanted < n_groups and running >= total * wanted / n_groups:
            # leave at least one child for each group still to come
            bounds.append(min(index + 1, len(children) - (n_groups - wanted)))
    bounds = sorted(set(bounds)) + [len(children)]
    return [children[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]
