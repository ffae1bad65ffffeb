"""PatienceCallback: a tracker that acts once the monitored value has not improved for `patience` epochs."""

from __future__ import annotations

from graftzoo.learner.tracking import Comp, TrackerCallback

__all__ = ["PatienceCallback"]


class PatienceCallback(TrackerCallback):
    """Counts epochs in a row without a new best; at `patience` of them calls `out_of_patience()`
    (and starts counting again). EarlyStoppingCallback and ReduceLROnPlateau are made of it."""

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
            self.wait = 0
            self.out_of_patience()

    def out_of_patience(self) -> None:
        """What to do after `patience` epochs without improvement."""
        raise NotImplementedError
