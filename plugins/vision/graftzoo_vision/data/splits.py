"""Seeded random train/valid splits and the seeds derived for each random stream."""

from __future__ import annotations

import torch

from graftzoo_vision.data.errors import ConfigError, DataError


def resolve_seed(seed: int | None) -> int:
    """`seed` itself, or one drawn from torch's global generator (so `torch.manual_seed` still rules)."""
    if seed is None:
        return int(torch.randint(0, 2**62, (1,)).item())
    return int(seed)


def make_generator(seed: int, stream: int) -> torch.Generator:
    """A CPU generator for one random stream (split, item crops, order, batch augmentation)."""
    return torch.Generator().manual_seed(seed * 4 + stream)


def random_split(n: int, valid_pct: float, seed: int) -> tuple[list[int], list[int]]:
    """Indices of the train and valid items: a `valid_pct` share, chosen at random with `seed`."""
    if not 0.0 < valid_pct < 1.0:
        raise ConfigError(f"valid_pct must be between 0 and 1 (got {valid_pct}); 0.2 keeps a fifth for validation.")
    n_valid = round(n * valid_pct)
    if n < 2 or n_valid == 0 or n_valid == n:
        raise DataError(
            f"cannot split {n} item(s) with valid_pct={valid_pct}: both train and valid need at least one; "
            "add items or change valid_pct."
        )
    order = torch.randperm(n, generator=make_generator(seed, 0)).tolist()
    return sorted(order[n_valid:]), sorted(order[:n_valid])
