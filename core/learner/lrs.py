"""Learning rates per parameter group: floats, `slice(hi)`, `slice(lo, hi)` (fastai's rules)."""

from __future__ import annotations

from collections.abc import Sequence

from graftzoo.errors import ConfigError

__all__ = ["LR", "even_mults", "spread_lr"]

LR = float | slice | Sequence[float]


def even_mults(start: float, stop: float, n: int) -> list[float]:
    """`n` values from `start` to `stop`, evenly spaced on a log scale (fastai's even_mults)."""
    if n == 1:
        return [stop]
    mult = stop / start
    step = mult ** (1 / (n - 1))
    return [start * step**i for i in range(n)]


def spread_lr(lr: LR, n_groups: int) -> list[float]:
    """One learning rate per group.

    A float goes to every group; `slice(hi)` gives `hi/10` to all groups but the last,
    which gets `hi`; `slice(lo, hi)` spreads geometrically from `lo` to `hi`; a sequence
    must hold one value per group.
    """
    if isinstance(lr, slice):
        if lr.stop is None:
            raise ConfigError(f"learning rate {lr!r} has no upper value; write slice(hi) or slice(lo, hi).")
        if lr.start:
            return even_mults(float(lr.start), float(lr.stop), n_groups)
        return [float(lr.stop) / 10] * (n_groups - 1) + [float(lr.stop)]
    if isinstance(lr, Sequence) and not isinstance(lr, str):
        if len(lr) != n_groups:
            raise ConfigError(
                f"got {len(lr)} learning rates for {n_groups} parameter groups; give one per group, "
                "a float, or a slice."
            )
        return [float(v) for v in lr]
    try:
        return [float(lr)] * n_groups
    except (TypeError, ValueError):
        raise ConfigError(f"learning rate {lr!r} is not a float, a slice or a list of floats.") from None
