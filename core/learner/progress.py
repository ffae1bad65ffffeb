"""ProgressCallback: a tqdm bar per phase on terminals, periodic progress lines elsewhere
(logs, pipes), and the epoch table, line by line."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from graftzoo.errors import ConfigError
from graftzoo.learner.callback import Callback

__all__ = ["ProgressCallback", "format_row", "format_time", "progress_interval"]

DEFAULT_INTERVAL = 10.0


def progress_interval() -> float:
    """Seconds between progress lines when there is no terminal: `$GRAFTZOO_PROGRESS_INTERVAL`, else 10."""
    raw = os.environ.get("GRAFTZOO_PROGRESS_INTERVAL", "").strip()
    if not raw:
        return DEFAULT_INTERVAL
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also rejects nan
        raise ConfigError(f"GRAFTZOO_PROGRESS_INTERVAL must be a number of seconds >= 0, got {raw!r}.")
    return value


def print_flushed(line: str) -> None:
    """`print` that flushes, so lines reach logs and pipes as they happen."""
    print(line, flush=True)


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
    tqdm bar while a phase runs when stderr is a terminal (or a notebook). Without one
    (logs, pipes), it prints `<phase>: batch i/n, mm:ss elapsed, loss x` every
    `GRAFTZOO_PROGRESS_INTERVAL` seconds (10 by default; 0: every batch) instead.

    Obeys `learn.show_table` / `learn.show_bar` (see `Learner.quiet()`, `no_bar()`,
    `no_logging()`); lines go through `self.printer` (default `print`, flushed).
    """

    order = 60

    def __init__(self, printer: Any = print_flushed) -> None:
        self.printer = printer
        self.bar: Any = None
        self._widths: list[int] = []
        self._last_postfix = 0.0
        self._line_desc: str | None = None  # set while a phase reports by lines instead of a bar
        self._interval = DEFAULT_INTERVAL
        self._phase_start = self._last_line = self._fit_start = 0.0

    def before_fit(self) -> None:
        self._fit_start = time.monotonic()
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
            tqdm = None
        if tqdm is not None:
            total = self.learn.n_iter
            self.bar = tqdm(total=total, desc=desc, leave=False, disable=None, file=sys.stderr, dynamic_ncols=True)
            if not self.bar.disable:
                return
            self.bar = None
        self._line_desc, self._interval = desc, progress_interval()
        self._phase_start = self._last_line = time.monotonic()

    def _close_bar(self) -> None:
        self._line_desc = None
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def _progress_line(self, now: float) -> str:
        """`<phase>: batch i/n, mm:ss elapsed[, loss x]` for the batch just done."""
        learn = self.learn
        run = self._run_label() if learn.training else None
        done, total = (learn.train_iter, run.progress_total) if run is not None else (learn.iter + 1, learn.n_iter)
        n = f"/{total}" if total else ""
        start = self._fit_start if run is not None else self._phase_start  # a named run counts from its start
        line = f"{self._line_desc}: batch {done}{n}, {format_time(now - start)} elapsed"
        if learn.training and learn.recorder is not None:
            line += f", loss {learn.recorder.smooth_loss:.4f}"
        return line

    def _run_label(self) -> Any:
        """The first callback that names the whole run (`progress_desc`, `progress_total`: e.g. the lr finder), or None."""
        return next((cb for cb in self.learn.cbs if getattr(cb, "progress_desc", None)), None)

    def before_train(self) -> None:
        run = self._run_label()
        self._open_bar(run.progress_desc if run is not None else f"epoch {self.learn.epoch + 1}/{self.learn.n_epoch} train")

    def before_validate(self) -> None:
        self._open_bar("valid")

    def after_batch(self) -> None:
        bar = self.bar
        if bar is None:
            if self._line_desc is not None:
                now = time.monotonic()
                if now - self._last_line >= self._interval:
                    self._last_line = now
                    self.printer(self._progress_line(now))
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
