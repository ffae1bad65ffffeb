"""Which layers of a body get adapters: module names or globs resolved against the built network."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import Any

from torch import nn

from graftzoo.errors import ConfigError

ADAPTABLE = (nn.Conv2d, nn.Linear)
RNN_WEIGHT = re.compile(r"^weight_(?:ih|hh)_l\d+(?:_reverse)?$")
"""The weight matrices of a torch RNN layer (`weight_hh_l0`): peft adapts them as parameters."""


def adaptable_layers(net: nn.Module) -> dict[str, nn.Module]:
    """Every target LoRA can take, by name, with the module that holds it.

    Layers: exactly `nn.Conv2d` (ungrouped) and `nn.Linear`; subclasses (timm's `Conv2dSame` pads
    in forward) and grouped/depthwise convolutions are left out, as an adapter beside them would not
    see the same input geometry. Parameters: the weight matrices of `nn.LSTM`, `nn.GRU` and `nn.RNN`
    layers, named `<layer>.<parameter>` (`rnns.0.module.weight_hh_l0`).
    """
    found: dict[str, nn.Module] = {}
    for name, module in net.named_modules():
        if type(module) in ADAPTABLE and getattr(module, "groups", 1) == 1:
            found[name] = module
        elif isinstance(module, nn.RNNBase):
            found.update({f"{name}.{param}" if name else param: module
                          for param, _ in module.named_parameters(recurse=False) if RNN_WEIGHT.match(param)})
    return found


def resolve_targets(layers: dict[str, nn.Module], patterns: tuple[str, ...] | list[str] | None, *, default: tuple[str, ...] | None,
                    last_group: list[Any] | None, arch: str) -> list[str]:
    """The names of the targets to adapt among `layers` (`adaptable_layers` of the body), in module order.

    `patterns` (the user's `target_modules`) win, else `default` (the arch's manifest
    `lora_targets`), else every adaptable layer whose parameters sit in `last_group` (the body's
    last parameter group). Each of the user's patterns must match at least one adaptable layer;
    a family default may hold patterns some members lack, but must match something. A ConfigError
    names what matched nothing and shows some of the names there are.
    """
    if patterns is None and default is None:
        owned = {id(p) for p in last_group or []}
        chosen = [name for name, m in layers.items() if any(id(p) in owned for p in m.parameters(recurse=False))]
        if not chosen:
            raise ConfigError(f"{arch}: the body's last parameter group has no ungrouped Conv2d or Linear layer or RNN weight for LoRA adapters "
                              f"({_names_hint(layers)}); pass LoRA(target_modules=[...])")
        return chosen
    wanted = list(patterns if patterns is not None else default or ())
    source = "target_modules" if patterns is not None else f"{arch}'s manifest lora_targets"
    chosen_set: set[str] = set()
    for pattern in wanted:
        hits = [name for name in layers if fnmatchcase(name, pattern)]
        if not hits and patterns is not None:
            raise ConfigError(f"{source} entry {pattern!r} names no Conv2d/Linear layer or RNN weight of the {arch} body ({_names_hint(layers)})")
        chosen_set.update(hits)
    if not chosen_set:
        raise ConfigError(f"{source} {wanted} name no Conv2d/Linear layer or RNN weight of the {arch} body ({_names_hint(layers)})")
    return [name for name in layers if name in chosen_set]


def _names_hint(layers: dict[str, nn.Module]) -> str:
    if not layers:
        return "it has no ungrouped Conv2d or Linear layer and no RNN weight at all, so LoRA cannot adapt it"
    shown = ", ".join(list(layers)[-4:])
    return f"names are relative to body.net, e.g. {shown}; fix the name or glob, or leave target_modules unset for the default"
