"""Read and write hyper-parameters of the groups of a torch optimizer (lr, mom, wd)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["set_hyper", "get_hyper"]

_ALIASES = {"wd": "weight_decay"}


def set_hyper(opt: torch.optim.Optimizer, name: str, value: float | Sequence[float]) -> None:
    """Set hyper-parameter `name` on every group: one value for all, or one per group.

    `"mom"` is momentum: `betas[0]` for Adam-type optimizers, `momentum` for SGD-type
    ones (ignored by optimizers that have neither); `"wd"` is `weight_decay`.
    """
    groups = opt.param_groups
    values = [value] * len(groups) if isinstance(value, (int, float)) else value
    if name == "mom":
        for g, v in zip(groups, values):
            betas = g.get("betas")
            if betas is not None:
                g["betas"] = (v, *betas[1:])
            elif "momentum" in g:
                g["momentum"] = v
        return
    key = _ALIASES.get(name, name)
    for g, v in zip(groups, values):
        g[key] = v


def get_hyper(opt: torch.optim.Optimizer, name: str, group: int = -1) -> float | None:
    """Hyper-parameter `name` of one group (`None` when the optimizer has no such setting)."""
    g = opt.param_groups[group]
    if name == "mom":
        betas = g.get("betas")
        return betas[0] if betas is not None else g.get("momentum")
    return g.get(_ALIASES.get(name, name))
