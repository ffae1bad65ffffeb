"""ProgressCallback: a tqdm bar per phase (terminals only) and the epoch table, line by line."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

from graftzoo.learner.callback import Callback

__all__ = ["ProgressCallback", "format_row", "format_time"]


def format_time(seconds: float) -> str:
    """`mm:ss` (or `h:mm:ss` past an hour), as in fastai's table."""
    s = int(round(seconds))
    h, m, s = s // 3600, (s // 60) % 60, s % 60
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6f}"
    return str(v)


def format_row(items: Sequence[Any], widths: Sequence[int]) -> str:
    """One table line: every cell left-aligned and padded to its column's width."""
    return "  ".join(_fmt(v).ljust(w) for v, w in zip(items, widths)).rstrip()


class ProgressCallback(Callback):
    """Prints `epoch train_loss valid_loss <metrics> time` once per epoch and shows a
    tqdm bar while a phase runs (only when stderr is a terminal).

    Obeys `learn.show_table` / `learn.show_bar` (see `Learner.quiet()`, `no_bar()`,
    `no_logging()`); lines go through `self.printer` (default `print`).
    """

    order = 60

    def __init__(self, printer: Any = print) -> None:
        self.printer = printer
        self.bar: Any = None
        self._widths: list[int] = []
        self._last_postfix = 0.0

    def before_fit(self) -> None:
        names = self.learn.recorder.metric_names if self.learn.recorder is not None else []
        self._widths = [max(len(n), 8) for n in names]
        if self.learn.show_table and names:
            self.printer(format_row(names, self._widths))

    def _open_bar(self, desc: str) -> None:
        self._close_bar()
        if not self.learn.show_bar:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover - tqdm is an optional extra
            return
        total = self.learn.n_iter
        self.bar = tqdm(total=total, desc=desc, leave=False, disable=None, file=sys.stderr, dynamic_ncols=True)
        if self.bar.disable:
            self.bar = None

    def _close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def before_train(self) -> None:
        self._open_bar(f"epoch {self.learn.epoch + 1}/{self.learn.n_epoch} train")

    def before_validate(self) -> None:
        self._open_bar("valid")

    def after_batch(self) -> None:
        bar = self.bar
        if bar is None:
            return
        bar.update(1)
        now = time.monotonic()
        if self.learn.training and now - self._last_postfix > 0.5:
            self._last_postfix = now
            bar.set_postfix_str(f"loss {self.learn.recorder.smooth_loss:.4f}", refresh=False)

    def after_train(self) -> None:
        self._close_bar()

    def after_validate(self) -> None:
        self._close_bar()

    def after_epoch(self) -> None:
        rec = self.learn.recorder
        if not self.learn.show_table or rec is None or not rec.values:
            return
        row = [self.learn.epoch, *rec.values[-1], format_time(rec.times[-1])]
        self.printer(format_row(row, self._widths))

    def after_fit(self) -> None:
        self._close_bar()
