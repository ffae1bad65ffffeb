"""Collate items into a batch, explaining in plain words when their shapes differ."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch.utils.data import default_collate

from graftzoo_vision.data.errors import CollateError


def collate_problem(samples: Sequence[Any]) -> str | None:
    """Why `samples` (tuples of tensors) cannot be stacked, or None when they can."""
    first = samples[0]
    parts = first if isinstance(first, (tuple, list)) else (first,)
    for k in range(len(parts)):
        members = [s[k] if isinstance(s, (tuple, list)) else s for s in samples]
        if not all(isinstance(m, torch.Tensor) for m in members):
            continue
        shapes = [tuple(m.shape) for m in members]
        if len(set(shapes)) > 1:
            listed = ", ".join(str(s) for s in shapes[:8]) + (", ..." if len(shapes) > 8 else "")
            return (
                f"the items have different sizes, so they cannot be stacked into one batch "
                f"(member {k} of the samples has shapes {listed}). Add a resize item transform: "
                "pass size=... (and optionally presize=...) so that every image is resized to the same shape."
            )
    return None


def collate_items(samples: Sequence[Any]) -> Any:
    """`default_collate`, with a `CollateError` that says what to do when sizes differ."""
    problem = collate_problem(samples)
    if problem is not None:
        raise CollateError(f"It's not possible to collate your items in a batch: {problem}")
    return default_collate(list(samples))
