"""CSVLogger: the epoch table, written row by row to a CSV file."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from graftzoo.learner.callback import Callback
from graftzoo.learner.distributed import is_main
from graftzoo.learner.progress import format_time
from graftzoo.learner.tracking import in_lr_find

__all__ = ["CSVLogger"]


def _cell(v: Any) -> str:
    return "" if v is None else repr(v) if isinstance(v, float) else str(v)


class CSVLogger(Callback):
    """Writes `learn.path / fname` with the recorder's columns (`epoch`, `train_loss`,
    `valid_loss`, metrics, `time`): the header at the start of a fit, one row per epoch.

    Each row is appended and the file closed at once, so a fit that stops (early stopping,
    an error) leaves every finished epoch on disk. `append=True` keeps earlier rows (the
    header is written only into a new or empty file). Floats are written exactly (`repr`);
    a missing value is an empty cell. Main process only; sits out `lr_find`.
    """

    order = 61  # after the Recorder and the printed row, before trackers that may stop the fit

    def __init__(self, fname: str | Path = "history.csv", append: bool = False) -> None:
        self.fname, self.append = Path(fname), append
        self._skip = False

    @property
    def path(self) -> Path:
        """The CSV file."""
        return self.learn.path / self.fname

    def _write(self, rows: list[list[str]], mode: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open(mode, newline="", encoding="utf-8") as f:
            csv.writer(f).writerows(rows)

    def before_fit(self) -> None:
        self._skip = in_lr_find(self.learn) or not is_main()
        if self._skip:
            return
        header = list(self.learn.recorder.metric_names)
        if not self.append:
            self._write([header], "w")
        elif not self.path.exists() or self.path.stat().st_size == 0:
            self._write([header], "a")

    def after_epoch(self) -> None:
        if self._skip:
            return
        rec = self.learn.recorder
        row = [str(self.learn.epoch), *(_cell(v) for v in rec.values[-1]), format_time(rec.times[-1])]
        self._write([row], "a")

    def read_log(self) -> Any:
        """The file as a pandas DataFrame."""
        import pandas as pd

        return pd.read_csv(self.path)

    def __repr__(self) -> str:
        return f"CSVLogger(fname={str(self.fname)!r}, append={self.append})"
