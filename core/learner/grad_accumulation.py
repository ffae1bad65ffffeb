"""GradientAccumulation: step the optimizer once every `n_acc` samples (fastai's callback)."""

from __future__ import annotations

import contextlib

from torch.nn.parallel import DistributedDataParallel

from graftzoo.errors import ConfigError
from graftzoo.learner.callback import Callback, CancelBatchException

__all__ = ["GradientAccumulation"]


class GradientAccumulation(Callback):
    """Accumulate gradients over batches until `n_acc` samples were seen, then step once.

    Each batch's loss is scaled by `bs / n_acc` before backward, so with a mean-reduced loss
    the accumulated gradient is that of one batch of `n_acc` samples (for models without
    BatchNorm, whose statistics depend on the batch). The recorded loss is the unscaled one.
    Until `n_acc` samples have accumulated, `before_step` cancels the batch, which skips the
    optimizer step and `zero_grad`, as in fastai. Samples left at the end of a fit never step.
    Under DDP the batches that do not step run in `no_sync()`: gradients are averaged across
    processes once per step, not once per batch (the same result, fewer all-reduces).
    """

    order = -5  # before GradientClip, which must only clip gradients that are about to be applied
    run_valid = False

    def __init__(self, n_acc: int = 32) -> None:
        if n_acc < 1:
            raise ConfigError(f"GradientAccumulation: n_acc is a number of samples and must be at least 1, got {n_acc}.")
        self.n_acc = n_acc
        self.count = 0
        self._unsynced = contextlib.ExitStack()

    def _bs(self) -> int:
        y = self.learn.yb[0]
        return int(y.shape[0]) if y.ndim else 1

    def before_fit(self) -> None:
        self.count = 0

    def before_batch(self) -> None:
        wrapped = self.learn.wrapped_model
        if isinstance(wrapped, DistributedDataParallel) and self.count + self._bs() < self.n_acc:
            self._unsynced.enter_context(wrapped.no_sync())  # this batch will not step: keep its gradients local

    def after_loss(self) -> None:
        loss = self.learn.loss
        assert loss is not None, "after_loss fires once the loss is computed"
        self.learn.loss = loss * (self._bs() / self.n_acc)

    def after_backward(self) -> None:
        loss = self.learn.loss
        assert loss is not None, "after_backward fires once the loss is computed"
        self.learn.loss = loss.detach() * (self.n_acc / self._bs())  # record the true loss
        self._unsynced.close()

    def before_step(self) -> None:
        self.count += self._bs()
        if self.count < self.n_acc:
            raise CancelBatchException()  # keep the gradients: no step, no zero_grad
        self.count = 0

    def after_batch(self) -> None:
        self._unsynced.close()  # also when the batch ended early

    def __repr__(self) -> str:
        return f"GradientAccumulation(n_acc={self.n_acc})"
