"""EarlyStoppingCallback: stop the fit once the monitored value stops improving."""

from __future__ import annotations

from graftzoo.learner.callback import CancelFitException
from graftzoo.learner.tracking import Comp, TrackerCallback

__all__ = ["EarlyStoppingCallback"]


class EarlyStoppingCallback(TrackerCallback):
    """Raises CancelFitException after `patience` epochs in a row without a new best.

    The epoch that stopped the fit is still recorded and printed; a message names the best epoch.
    """

    def __init__(
        self, monitor: str = "valid_loss", comp: Comp | None = None, min_delta: float = 0.0,
        patience: int = 1, reset_on_fit: bool = True,
    ) -> None:
        super().__init__(monitor, comp, min_delta, reset_on_fit)
        self.patience = patience
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
        if self.wait >= self.patience:
            self.say(
                f"No improvement of {self.monitor} since epoch {self.best_epoch} ({self.best:.6g}): "
                f"early stopping after epoch {self.learn.epoch}."
            )
            raise CancelFitException()
