"""Adapter parameters in the body's parameter groups: each joins the group of the layer it adapts."""

from __future__ import annotations

from torch import nn

from graftzoo.adapters.trainable import ADAPTER_MARK, is_adapter_key


def place_adapter_params(net: nn.Module, groups: list[list[nn.Parameter]]) -> list[list[nn.Parameter]]:
    """`groups` with every adapter parameter of `net` that no group holds added to its base layer's group.

    Splits built from modules already hold the adapters (they sit inside the wrapped layer); splits
    built from parameters (timm's `group_matcher`) may not, and discriminative learning rates must
    treat an adapter like the layer it adapts.
    """
    seen = {id(p) for group in groups for p in group}
    params = dict(net.named_parameters())
    out = [list(group) for group in groups]
    where = {id(p): i for i, group in enumerate(out) for p in group}
    for name, p in params.items():
        if id(p) in seen or not is_adapter_key(name):
            continue
        layer = net.get_submodule(name[: name.index(ADAPTER_MARK)])  # the wrapper; its other parameters are the base layer's
        base = [id(q) for key, q in layer.named_parameters() if not is_adapter_key(key) and id(q) in where]
        index = where[base[0]] if base else len(out) - 1
        out[index].append(p)
        where[id(p)] = index
    return out
