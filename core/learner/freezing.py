"""Freezing parameter groups: `requires_grad` off, BatchNorm kept trainable with train_bn."""

from __future__ import annotations

import warnings

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

__all__ = ["bn_param_ids", "freeze_groups", "frozen_index"]


def bn_param_ids(model: nn.Module) -> set[int]:
    """Ids of the parameters of every BatchNorm layer of `model`."""
    return {id(p) for m in model.modules() if isinstance(m, _BatchNorm) for p in m.parameters(recurse=False)}


def frozen_index(n: int, n_groups: int) -> int:
    """How many leading groups `freeze_to(n)` freezes (negative `n` counts from the end)."""
    idx = n if n >= 0 else n_groups + n
    idx = max(idx, 0)
    if n_groups == 1 and n != 0:
        warnings.warn(
            "the model has one parameter group, so freezing leaves it all trainable; give the "
            "Learner a splitter (or a model with param_groups()) to freeze the body.",
            stacklevel=4,
        )
    elif idx >= n_groups:
        warnings.warn(
            f"freezing {idx} groups of a model that has {n_groups}: the whole model is frozen "
            "(except BatchNorm with train_bn=True).",
            stacklevel=4,
        )
    return min(idx, n_groups)


def freeze_groups(model: nn.Module, groups: list[list[nn.Parameter]], n: int, train_bn: bool) -> int:
    """Freeze the first `n` groups, unfreeze the rest; return the number frozen.

    Frozen parameters get `requires_grad=False` and their `.grad` dropped, so the
    optimizer (which skips parameters without a gradient) neither steps nor decays
    them. With `train_bn`, BatchNorm parameters stay trainable in frozen groups. A body with
    LoRA adapters keeps its other weights frozen in every group: unfrozen, its adapters train.
    """
    from graftzoo.adapters.trainable import locked_param_ids

    idx = frozen_index(n, len(groups))
    keep = bn_param_ids(model) if train_bn else set()
    locked = locked_param_ids(model)  # with adapters: body weights that are neither adapter nor BatchNorm
    for i, group in enumerate(groups):
        for p in group:
            trainable = (i >= idx or id(p) in keep) and id(p) not in locked
            p.requires_grad_(trainable)
            if not trainable:
                p.grad = None
    return idx
