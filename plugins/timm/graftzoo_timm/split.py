"""Parameter groups of a timm body from timm's own coarse `group_matcher` (stem, stages, head side)."""

from __future__ import annotations

from torch import nn

from graftzoo.splitter import split_children

MAX_GROUPS = 6


def timm_split(net: nn.Module) -> list[list[nn.Parameter]]:
    """Body groups, earliest layers first, for a body whose `net.model` is a timm model.

    timm's coarse matcher gives the stem, one group per stage (or block) and the head-side layers
    (a final norm, say); more than MAX_GROUPS are merged into runs of about equal size. A model
    without a matcher (or one that makes a single group) is split over its children instead
    (see `children_groups`).
    """
    model = net.get_submodule("model")
    groups = matcher_groups(model)
    if len(groups) < 2:
        groups = children_groups(model)
    return merge_groups(groups, MAX_GROUPS)


def matcher_groups(model: nn.Module) -> list[list[nn.Parameter]]:
    """timm's coarse parameter groups of `model`, in order, empty ones dropped (none without a matcher)."""
    from timm.models import group_parameters

    group_matcher = getattr(model, "group_matcher", None)
    if group_matcher is None:
        return []
    params = dict(model.named_parameters())
    try:
        by_layer = group_parameters(model, group_matcher(coarse=True))
    except (AssertionError, NotImplementedError):  # RDNet has no coarse matcher
        return []
    groups = [[params[name] for name in by_layer[layer] if name in params] for layer in sorted(by_layer)]
    return [group for group in groups if group]


def children_groups(model: nn.Module) -> list[list[nn.Parameter]]:
    """graftzoo's even split of the model's children; parameters held by the model itself
    (a position embedding, a class token) join the first group."""
    groups = [[p for m in group for p in m.parameters()] for group in split_children(model)]
    groups[0][:0] = list(model.parameters(recurse=False))
    return groups


def merge_groups(groups: list[list[nn.Parameter]], n_groups: int) -> list[list[nn.Parameter]]:
    """Merge consecutive groups into at most `n_groups` runs of about equal parameter count."""
    if len(groups) <= n_groups:
        return groups
    sizes = [sum(p.numel() for p in group) for group in groups]
    total, running = sum(sizes), 0
    merged: list[list[nn.Parameter]] = []
    current: list[nn.Parameter] = []
    for index, (group, size) in enumerate(zip(groups, sizes)):
        current.extend(group)
        running += size
        left_groups, left_runs = len(groups) - index - 1, n_groups - len(merged) - 1
        if left_runs and (running >= total * (len(merged) + 1) / n_groups or left_groups == left_runs):
            merged.append(current)
            current = []
    if current:
        merged.append(current)
    return merged
