"""EarlyStoppingCallback: stop the fit once the monitored value stops improving."""

from __future__ import annotations

from graftzoo.learner.callback import CancelFitException
from graftzoo.learner.patience import PatienceCallback

__all__ = ["EarlyStoppingCallback"]


class EarlyStoppingCallback(PatienceCallback):
    """Raises CancelFitException after `patience` epochs in a row without a new best.

    The epoch that stopped the fit is still recorded and printed; a message names the best epoch.
    """

    def out_of_patience(self) -> None:
        self.say(
            f"No improvement of {self.monitor} since epoch {self.best_epoch} ({self.best:.6g}): "
            f"early stopping after epoch {self.learn.epoch}."
        )
        raise CancelFitException()
