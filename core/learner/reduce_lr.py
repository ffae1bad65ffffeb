"""ReduceLROnPlateau: divide the learning rates when the monitored value stops improving."""

from __future__ import annotations

from graftzoo.learner.patience import PatienceCallback
from graftzoo.learner.tracking import Comp

__all__ = ["ReduceLROnPlateau"]


class ReduceLROnPlateau(PatienceCallback):
    """After `patience` epochs in a row without a new best, divides every param group's lr
    by `factor` (never below `min_lr`) and starts counting again, as fastai's does.

    Meant for `fit` (constant lr): under `fit_one_cycle` the schedule sets the lr every batch.
    """

    def __init__(
        self, monitor: str = "valid_loss", comp: Comp | None = None, min_delta: float = 0.0,
        patience: int = 1, factor: float = 10.0, min_lr: float = 0.0, reset_on_fit: bool = True,
    ) -> None:
        super().__init__(monitor, comp, min_delta, patience, reset_on_fit)
        self.factor, self.min_lr = factor, min_lr

    def out_of_patience(self) -> None:
        opt = self.learn.opt
        assert opt is not None, "fit creates the optimizer before the first epoch"
        old = opt.param_groups[-1]["lr"]
        for group in opt.param_groups:
            group["lr"] = max(group["lr"] / self.factor, self.min_lr)
        new = opt.param_groups[-1]["lr"]
        if new < old:
            self.say(f"Epoch {self.learn.epoch}: reducing lr to {new:.6g}.")
