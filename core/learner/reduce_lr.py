"""ReduceLROnPlateau: divide the learning rates when the monitored value stops improving."""

from __future__ import annotations

from graftzoo.learner.tracking import Comp, TrackerCallback

__all__ = ["ReduceLROnPlateau"]


class ReduceLROnPlateau(TrackerCallback):
    """After `patience` epochs in a row without a new best, divides every param group's lr
    by `factor` (never below `min_lr`) and starts counting again, as fastai's does.

    Meant for `fit` (constant lr): under `fit_one_cycle` the schedule sets the lr every batch.
    """

    def __init__(
        self, monitor: str = "valid_loss", comp: Comp | None = None, min_delta: float = 0.0,
        patience: int = 1, factor: float = 10.0, min_lr: float = 0.0, reset_on_fit: bool = True,
    ) -> None:
        super().__init__(monitor, comp, min_delta, reset_on_fit)
        self.patience, self.factor, self.min_lr = patience, factor, min_lr
        self.wait = 0

    def before_fit(self) -> None:
        self.wait = 0
        super().before_fit()

    def after_epoch(self) -> None:
        if not self.active:
            return
        super().after_epoch()
        if self.new_best:
            self.wait = 0
            return
        self.wait += 1
        if self.wait < self.patience:
            return
        self.wait = 0
        opt = self.learn.opt
        assert opt is not None, "fit creates the optimizer before the first epoch"
        old = opt.param_groups[-1]["lr"]
        for group in opt.param_groups:
            group["lr"] = max(group["lr"] / self.factor, self.min_lr)
        new = opt.param_groups[-1]["lr"]
        if new < old:
            self.say(f"Epoch {self.learn.epoch}: reducing lr to {new:.6g}.")
