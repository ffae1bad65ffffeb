"""TrackerCallback: follows one recorded value (a loss or a metric) epoch by epoch and keeps its best."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from graftzoo.data_protocol import dls_attr
from graftzoo.errors import ConfigError
from graftzoo.learner.callback import Callback
from graftzoo.learner.distributed import is_main
from graftzoo.learner.lr_find import LRFinder

if TYPE_CHECKING:
    from graftzoo.learner.learner import Learner

__all__ = ["TrackerCallback", "default_comp", "in_lr_find"]

Comp = Callable[[Any, Any], Any]


def default_comp(monitor: str) -> Comp:
    """`np.less` for names containing "loss" or "error" (lower is better), else `np.greater`."""
    return np.less if "loss" in monitor or "error" in monitor else np.greater


def in_lr_find(learn: Learner) -> bool:
    """Whether the running fit is `lr_find`'s range test (trackers and loggers sit it out)."""
    return any(isinstance(cb, LRFinder) for cb in learn.cbs)


class TrackerCallback(Callback):
    """Reads `monitor` from the recorder after every epoch and updates `best`, as fastai's does.

    `monitor` is a column of the epoch table (`train_loss`, `valid_loss` or a metric's name).
    A value is a new best when `comp(value - min_delta, best)` holds (`min_delta` is subtracted
    for "greater is better", added for "lower is better"). After each epoch `new_best` says
    whether it improved and `best_epoch` is the epoch of `best`. Runs after the Recorder and
    the printed table row (`order` 65); sits out `lr_find`.
    """

    order = 65

    def __init__(
        self, monitor: str = "valid_loss", comp: Comp | None = None, min_delta: float = 0.0, reset_on_fit: bool = True
    ) -> None:
        self.monitor = monitor
        self.comp: Comp = default_comp(monitor) if comp is None else comp
        self.min_delta = -min_delta if self.comp is np.less else min_delta
        self.reset_on_fit = reset_on_fit
        self.best: float = self._worst()
        self.best_epoch: int | None = None
        self.new_best = False
        self.active = True
        self._idx = 0

    def _worst(self) -> float:
        return float("inf") if self.comp is np.less else -float("inf")

    def before_fit(self) -> None:
        self.active = not in_lr_find(self.learn)
        if not self.active:
            return
        if self.reset_on_fit:
            self.best, self.best_epoch = self._worst(), None
        self.new_best = False
        self._idx = self._column()

    def _column(self) -> int:
        """Index of `monitor` in the recorder's `values` rows; ConfigError (before training) if absent."""
        names = self.learn.recorder.metric_names[1:-1]  # drop "epoch" and "time": values rows hold the rest
        if self.monitor not in names:
            raise ConfigError(
                f"{type(self).__name__} monitors {self.monitor!r}, which is not recorded; the recorded values "
                f"are {names}. Pass monitor= one of those (metrics are named after their function)."
            )
        if self.monitor != "train_loss" and dls_attr(self.learn.dls, "valid") is None:
            raise ConfigError(
                f"{type(self).__name__} monitors {self.monitor!r}, a validation value, but there is no "
                "validation set (dls.valid is None); add one, or monitor 'train_loss'."
            )
        return names.index(self.monitor)

    def after_epoch(self) -> None:
        """Compare this epoch's value with `best` and set `new_best`."""
        value = self.learn.recorder.values[-1][self._idx]
        if value is None:
            raise ConfigError(
                f"{type(self).__name__}: {self.monitor!r} has no value at epoch {self.learn.epoch} (the "
                "validation set gave no batches?); monitor a value that every epoch records."
            )
        self.new_best = bool(self.comp(value - self.min_delta, self.best))
        if self.new_best:
            self.best, self.best_epoch = value, self.learn.epoch

    def say(self, text: str) -> None:
        """Print `text` unless the learner is quiet or this is not the main process."""
        if self.learn.show_table and is_main():
            print(text)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(monitor={self.monitor!r})"
