"""NanGuard: stop training with a TrainingError as soon as the loss is NaN or infinite."""

from __future__ import annotations

import math

from graftzoo.errors import TrainingError
from graftzoo.learner.callback import Callback
from graftzoo.learner.hypers import get_hyper

__all__ = ["NanGuard"]


class NanGuard(Callback):
    """Checks the training loss after it is computed, before backward and step, so the
    weights are still those of the last good batch when it raises."""

    order = -10
    run_valid = False

    def after_loss(self) -> None:
        learn = self.learn
        if learn.loss is None:
            return
        v = learn.loss_value
        if math.isfinite(v):
            return
        lrs = [g["lr"] for g in learn.opt.param_groups]
        lr_text = ", ".join(f"{float(lr):.3g}" for lr in lrs)
        raise TrainingError(
            f"the training loss became {v} at epoch {learn.epoch}, batch {learn.iter} "
            f"(learning rates {lr_text}, momentum {get_hyper(learn.opt, 'mom')}). Training stopped; "
            "the weights are those after the previous batch. Lower the learning rate (run "
            "learn.lr_find()), check the data for NaN/inf values or wrong targets, or train in "
            "fp32 (learn.to_fp32()) if mixed precision is on."
        )
