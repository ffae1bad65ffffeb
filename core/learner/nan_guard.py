"""NanGuard: stop training with a TrainingError as soon as the loss is NaN or infinite, model untouched."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from graftzoo.errors import TrainingError
from graftzoo.learner.callback import Callback
from graftzoo.learner.hypers import get_hyper

__all__ = ["NanGuard"]


class NanGuard(Callback):
    """Checks the training loss after it is computed, before backward and step.

    The forward pass of that batch has already changed the model's buffers (BatchNorm running
    statistics take the NaN of a NaN pixel), so NanGuard keeps a copy of every buffer from before
    each training batch and puts it back before raising: after the TrainingError the whole
    state dict is that of the last good batch. The copy is one fused `_foreach_copy_` of the
    buffers (none at all for a model without buffers); parameters are never copied, since
    stopping before backward already leaves them alone.
    """

    order = -10
    run_valid = False

    def __init__(self) -> None:
        self._buffers: list[Tensor] | None = None
        self._saved: list[Tensor] = []

    def before_fit(self) -> None:
        self._buffers = None  # collected at the first batch, after every before_fit (which may move the model)

    def before_batch(self) -> None:
        if self._buffers is None:
            self._buffers = [b for b in self.learn.model.buffers() if b.numel()]
            self._saved = [b.detach().clone() for b in self._buffers]
        elif self._buffers:
            with torch.no_grad():
                torch._foreach_copy_(self._saved, self._buffers)

    def after_fit(self) -> None:
        self._buffers, self._saved = None, []

    def after_loss(self) -> None:
        learn = self.learn
        if learn.loss is None:
            return
        v = learn.loss_value
        if math.isfinite(v):
            return
        self._restore_buffers()
        assert learn.opt is not None, "fit creates the optimizer before the first batch"
        lrs = [g["lr"] for g in learn.opt.param_groups]
        lr_text = ", ".join(f"{float(lr):.3g}" for lr in lrs)
        raise TrainingError(
            f"the training loss became {v} at epoch {learn.epoch}, batch {learn.iter} "
            f"(learning rates {lr_text}, momentum {get_hyper(learn.opt, 'mom')}). Training stopped; "
            "the model (weights and BatchNorm statistics) is as it was after the previous batch. Lower the "
            "learning rate (run learn.lr_find()), check the data for NaN/inf values or wrong targets, or train "
            "in fp32 (learn.to_fp32()) if mixed precision is on."
        )

    def _restore_buffers(self) -> None:
        if self._buffers:
            with torch.no_grad():
                torch._foreach_copy_(self._buffers, self._saved)
