"""Callback base class, the training-loop events and the Cancel*Exception family."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graftzoo.learner.learner import Learner

__all__ = [
    "EVENTS",
    "INNER_EVENTS",
    "Callback",
    "CancelBackwardException",
    "CancelBatchException",
    "CancelEpochException",
    "CancelFitException",
    "CancelStepException",
    "CancelTrainException",
    "CancelValidException",
]

#: Events fired for every batch; callbacks can skip them in training or validation.
INNER_EVENTS: tuple[str, ...] = (
    "before_batch", "after_pred", "after_loss", "before_backward", "after_cancel_backward",
    "after_backward", "before_step", "after_cancel_step", "after_step", "after_cancel_batch",
    "after_batch",
)

#: Every event a callback may define, in the order the loop first fires them.
EVENTS: tuple[str, ...] = (
    "before_fit", "before_epoch", "before_train", *INNER_EVENTS, "after_cancel_train",
    "after_train", "before_validate", "after_cancel_validate", "after_validate",
    "after_cancel_epoch", "after_epoch", "after_cancel_fit", "after_fit",
)


class CancelFitException(Exception):
    """Raise in a callback to stop training; `after_cancel_fit` then `after_fit` fire."""


class CancelEpochException(Exception):
    """Raise in a callback to skip the rest of the current epoch."""


class CancelTrainException(Exception):
    """Raise in a callback to skip the rest of the training phase of this epoch."""


class CancelValidException(Exception):
    """Raise in a callback to skip the rest of the validation phase."""


class CancelBatchException(Exception):
    """Raise in a callback to skip the rest of the current batch."""


class CancelBackwardException(Exception):
    """Raise in `before_backward` to skip the backward pass of this batch."""


class CancelStepException(Exception):
    """Raise in `before_step` to skip the optimizer step of this batch."""


class Callback:
    """Base class of callbacks: define methods named after events in `EVENTS`.

    Only the events a subclass defines are dispatched to it (the learner precomputes
    the lists), so an empty callback costs nothing per batch. `order` sorts callbacks
    (lower runs first); `run_train`/`run_valid` switch the per-batch events off in
    training or validation. Reading an unknown attribute falls back on the learner,
    as in fastai (`self.model`, `self.loss`, ...); assign through `self.learn`.
    """

    order: int = 0
    run_train: bool = True
    run_valid: bool = True
    learn: Learner

    @property
    def name(self) -> str:
        """Snake-case class name without a trailing `Callback`."""
        cls = type(self).__name__
        if cls.endswith("Callback") and cls != "Callback":
            cls = cls[: -len("Callback")]
        return "".join("_" + c.lower() if c.isupper() else c for c in cls).lstrip("_")

    def __getattr__(self, name: str) -> Any:
        learn = self.__dict__.get("learn")
        if learn is None or name.startswith("_"):
            raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")
        return getattr(learn, name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def handles(cb: Callback, event: str) -> bool:
    """Whether `cb` defines `event` (looked up on the class, never through the learner)."""
    return callable(getattr(type(cb), event, None))
