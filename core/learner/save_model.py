"""SaveModelCallback: checkpoint the best model of a fit (safetensors) and end the fit with it."""

from __future__ import annotations

from pathlib import Path

from graftzoo.learner.tracking import Comp, TrackerCallback

__all__ = ["SaveModelCallback"]


class SaveModelCallback(TrackerCallback):
    """Saves `learn.save(fname)` whenever the monitored value improves, and loads that
    checkpoint when the fit ends (also after an early stop), as fastai's does.

    With `every_epoch=True` (or an int `n`) it instead saves `fname_<epoch>` after every
    (n-th) epoch and loads nothing. `with_opt` also saves/loads the optimizer state.
    `last_saved_path` is the file written last.
    """

    def __init__(
        self, monitor: str = "valid_loss", comp: Comp | None = None, min_delta: float = 0.0,
        fname: str = "model", every_epoch: bool | int = False, with_opt: bool = False, reset_on_fit: bool = True,
    ) -> None:
        super().__init__(monitor, comp, min_delta, reset_on_fit)
        self.fname, self.every_epoch, self.with_opt = fname, int(every_epoch), with_opt
        self.last_saved_path: Path | None = None
        self._best_file: str | None = None

    def before_fit(self) -> None:
        if self.every_epoch:
            self.active = True  # the monitor plays no part
            return
        if self.reset_on_fit:
            self._best_file = None
        super().before_fit()

    def _save(self, name: str) -> None:
        self.last_saved_path = self.learn.save(name, with_opt=self.with_opt)

    def after_epoch(self) -> None:
        if self.every_epoch:
            if self.learn.epoch % self.every_epoch == 0:
                self._save(f"{self.fname}_{self.learn.epoch}")
            return
        if not self.active:
            return
        super().after_epoch()
        if self.new_best:
            self.say(f"Better model found at epoch {self.learn.epoch} with {self.monitor} value: {self.best:.6g}.")
            self._save(self.fname)
            self._best_file = self.fname

    def after_fit(self) -> None:
        if self.every_epoch or not self.active or self._best_file is None:
            return
        self.learn.load(self._best_file, with_opt=self.with_opt)
