"""`fit_flat_cos` and `fit_sgdr`: fastai's other two training schedules, bound as Learner methods."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from graftzoo.errors import ConfigError
from graftzoo.learner.callback import Callback
from graftzoo.learner.lrs import LR, spread_lr
from graftzoo.learner.schedule import ParamScheduler, flat_cos_scheds, sgdr_epochs, sgdr_scheds

if TYPE_CHECKING:
    from graftzoo.learner.learner import Learner

__all__ = ["fit_flat_cos", "fit_sgdr"]


def fit_flat_cos(
    self: Learner, n_epoch: int, lr: LR | None = None, div_final: float = 1e5, pct_start: float = 0.75,
    wd: float | None = None, cbs: Iterable[Callback] | None = None, reset_opt: bool = False, start_epoch: int = 0,
) -> None:
    """Train `n_epoch` epochs at a flat `lr` (default `self.lr`; a slice spreads it over the groups)
    for `pct_start` of the iterations, then anneal it with a cosine to lr/div_final (fastai's)."""
    if not 0.0 <= pct_start <= 1.0:
        raise ConfigError(f"fit_flat_cos: pct_start is a fraction of training, from 0 to 1; got {pct_start}.")
    if reset_opt or self.opt is None:
        self.create_opt()
    lrs = spread_lr(self.lr if lr is None else lr, len(self.param_lists))
    sched = ParamScheduler(flat_cos_scheds(lrs, pct_start, div_final))
    self.fit(n_epoch, lr=lrs, wd=wd, cbs=[sched, *(cbs or [])], start_epoch=start_epoch)


def fit_sgdr(
    self: Learner, n_cycles: int, cycle_len: int, lr_max: LR | None = None, cycle_mult: int = 2,
    cbs: Iterable[Callback] | None = None, reset_opt: bool = False, wd: float | None = None, start_epoch: int = 0,
) -> None:
    """SGDR (fastai's): `n_cycles` cosine cycles from `lr_max` down to 0; cycle i lasts
    `cycle_len * cycle_mult**i` epochs, so the fit has `cycle_len * (cycle_mult**n_cycles - 1) /
    (cycle_mult - 1)` epochs in all (`cycle_len * n_cycles` when `cycle_mult` is 1)."""
    for name, value in (("n_cycles", n_cycles), ("cycle_len", cycle_len), ("cycle_mult", cycle_mult)):
        if not isinstance(value, int) or value < 1:
            raise ConfigError(f"fit_sgdr: {name} must be a whole number >= 1 (epochs), got {value!r}.")
    if reset_opt or self.opt is None:
        self.create_opt()
    lrs = spread_lr(self.lr if lr_max is None else lr_max, len(self.param_lists))
    sched = ParamScheduler(sgdr_scheds(lrs, n_cycles, cycle_len, cycle_mult))
    n_epoch = sgdr_epochs(n_cycles, cycle_len, cycle_mult)
    self.fit(n_epoch, lr=lrs, wd=wd, cbs=[sched, *(cbs or [])], start_epoch=start_epoch)
