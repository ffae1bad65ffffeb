"""Hyper-parameter schedules (fastai's combined cosine / one-cycle) and ParamScheduler."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from graftzoo.learner.callback import Callback
from graftzoo.learner.hypers import get_hyper, set_hyper

__all__ = [
    "ParamScheduler",
    "Schedule",
    "combine_scheds",
    "combined_cos",
    "flat_cos_scheds",
    "one_cycle_scheds",
    "sched_cos",
    "sched_exp",
    "sched_lin",
    "sgdr_epochs",
    "sgdr_scheds",
]

#: pct of training done (0..1) -> a value, or one value per parameter group.
Schedule = Callable[[float], float | Sequence[float]]


def sched_lin(start: float, end: float, pos: float) -> float:
    """Linear from `start` (pos 0) to `end` (pos 1)."""
    return start + pos * (end - start)


def sched_cos(start: float, end: float, pos: float) -> float:
    """Half a cosine from `start` (pos 0) to `end` (pos 1)."""
    return start + (1 + math.cos(math.pi * (1 - pos))) * (end - start) / 2


def sched_exp(start: float, end: float, pos: float) -> float:
    """Exponential from `start` (pos 0) to `end` (pos 1)."""
    return start * (end / start) ** pos


def combine_scheds(pcts: Sequence[float], scheds: Sequence[Callable[[float], float]]) -> Callable[[float], float]:
    """Run `scheds[i]` over a fraction `pcts[i]` of training, one after the other."""
    bounds = [0.0]
    for p in pcts:
        bounds.append(bounds[-1] + p)
    last = len(scheds) - 1

    def _inner(pos: float) -> float:
        idx = 0
        while idx < last and pos >= bounds[idx + 1]:
            idx += 1
        width = bounds[idx + 1] - bounds[idx]
        return scheds[idx]((pos - bounds[idx]) / width if width > 0 else 1.0)

    return _inner


def combined_cos(pct: float, start: float, middle: float, end: float) -> Callable[[float], float]:
    """Cosine from `start` to `middle` over the first `pct` of training, then to `end`."""
    return combine_scheds(
        [pct, 1 - pct],
        [lambda p: sched_cos(start, middle, p), lambda p: sched_cos(middle, end, p)],
    )


def one_cycle_scheds(
    lr_max: Sequence[float],
    div: float = 25.0,
    div_final: float = 1e5,
    pct_start: float = 0.25,
    moms: Sequence[float] | None = (0.95, 0.85, 0.95),
) -> dict[str, Schedule]:
    """fastai's 1cycle: lr from lr_max/div up to lr_max then down to lr_max/div_final
    (per group, every group scaled by the same factor); momentum the other way."""
    factor = combined_cos(pct_start, 1 / div, 1.0, 1 / div_final)
    base = [float(v) for v in lr_max]
    scheds: dict[str, Schedule] = {"lr": lambda p: [b * factor(p) for b in base]}
    if moms is not None:
        scheds["mom"] = combined_cos(pct_start, *moms)
    return scheds


def flat_cos_scheds(lr: Sequence[float], pct_start: float = 0.75, div_final: float = 1e5) -> dict[str, Schedule]:
    """fastai's fit_flat_cos: each group's lr flat for `pct_start` of training, then a cosine
    down to lr/div_final (`combined_cos(pct_start, lr, lr, lr / div_final)`)."""
    parts = [combined_cos(pct_start, float(v), float(v), float(v) / div_final) for v in lr]
    return {"lr": lambda p: [f(p) for f in parts]}


def sgdr_epochs(n_cycles: int, cycle_len: int, cycle_mult: int = 2) -> int:
    """Epochs of an SGDR fit: cycle_len * (1 + cycle_mult + ... + cycle_mult**(n_cycles - 1))."""
    return sum(cycle_len * cycle_mult**i for i in range(n_cycles))


def sgdr_scheds(lr_max: Sequence[float], n_cycles: int, cycle_len: int, cycle_mult: int = 2) -> dict[str, Schedule]:
    """fastai's SGDR: `n_cycles` cosines from lr_max down to 0, cycle i lasting cycle_len * cycle_mult**i epochs."""
    n_epoch = sgdr_epochs(n_cycles, cycle_len, cycle_mult)
    pcts = [cycle_len * cycle_mult**i / n_epoch for i in range(n_cycles)]

    def cycles(top: float) -> Callable[[float], float]:
        return combine_scheds(pcts, [lambda p: sched_cos(top, 0.0, p)] * n_cycles)

    parts = [cycles(float(v)) for v in lr_max]
    return {"lr": lambda p: [f(p) for f in parts]}


class ParamScheduler(Callback):
    """Sets hyper-parameters from schedules before every training batch.

    `scheds` maps a hyper-parameter (`lr`, `mom`, `wd`, or any optimizer group key)
    to a schedule of `learn.pct_train`. The values used are kept in `self.hps`.
    """

    order = 60
    run_valid = False

    def __init__(self, scheds: dict[str, Schedule]) -> None:
        self.scheds = scheds
        self.hps: dict[str, list[float | None]] = {}

    def before_fit(self) -> None:
        self.hps = {name: [] for name in self.scheds}

    def before_batch(self) -> None:
        pct = self.learn.pct_train
        opt = self.learn.opt
        assert opt is not None, "fit creates the optimizer before the first batch"
        for name, sched in self.scheds.items():
            set_hyper(opt, name, sched(pct))

    def after_batch(self) -> None:
        opt = self.learn.opt
        assert opt is not None, "fit creates the optimizer before the first batch"
        for name, values in self.hps.items():
            values.append(get_hyper(opt, name))
