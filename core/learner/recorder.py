"""Recorder: losses (raw and smoothed), lrs and moms per batch, metric values per epoch."""

from __future__ import annotations

import time
from pathlib import Path

import torch
from torch import Tensor

from graftzoo.learner.callback import Callback
from graftzoo.learner.hypers import get_hyper
from graftzoo.learner.plotting import new_axes, save_figure

__all__ = ["Recorder"]


class Recorder(Callback):
    """Records training as fastai's Recorder does.

    Per training batch: `raw_losses`, `losses` (debiased exponential moving average,
    `beta`), `lrs` and `moms` (last group). Per epoch: `values` rows of
    `[train_loss, valid_loss, *metrics]` (train_loss is the smoothed loss at the end
    of the epoch, as in fastai), `iters` (batch count at each epoch end), `times`.
    Validation loss and metrics accumulate on tensors; they are read once per phase.
    Training losses are kept as tensors too and read in one go (one host sync) when the phase
    ends, every `flush_every` batches, or when `losses`, `raw_losses` or `smooth_loss` is read
    (a callback that reads them per batch, like lr_find's, still gets every batch's value).
    """

    order = 50

    def __init__(self, beta: float = 0.98, flush_every: int = 256) -> None:
        self.beta, self.flush_every = beta, flush_every
        self.lrs: list[float] = []
        self.moms: list[float | None] = []
        self._losses: list[float] = []
        self._raw_losses: list[float] = []
        self._pending: list[Tensor] = []  # training losses not yet read from the device
        self.iters: list[int] = []
        self.values: list[list[float | None]] = []
        self.times: list[float] = []
        self.valid_values: list[float | None] = []
        self._smooth_loss = float("nan")
        self._avg, self._count = 0.0, 0
        self._vloss: Tensor | float = 0.0
        self._vcount = 0

    @property
    def losses(self) -> list[float]:
        """The smoothed training loss after every training batch."""
        self._flush()
        return self._losses

    @property
    def raw_losses(self) -> list[float]:
        """The training loss of every training batch."""
        self._flush()
        return self._raw_losses

    @property
    def smooth_loss(self) -> float:
        """The smoothed training loss after the latest training batch (nan before the first)."""
        self._flush()
        return self._smooth_loss

    def _flush(self) -> None:
        """Read the pending training losses (one transfer) and extend the smoothed curve."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        values = torch.stack(pending).tolist() if len(pending) > 1 else [pending[0].item()]
        beta, avg, count = self.beta, self._avg, self._count
        for v in values:
            count += 1
            avg = avg * beta + (1 - beta) * v
            self._smooth_loss = avg / (1 - beta**count)
            self._raw_losses.append(v)
            self._losses.append(self._smooth_loss)
        self._avg, self._count = avg, count

    @property
    def metric_names(self) -> list[str]:
        """Column names of the epoch table."""
        return ["epoch", "train_loss", "valid_loss", *(m.name for m in self.learn.metrics), "time"]

    @property
    def final_record(self) -> list[float | None]:
        """The last epoch's `[train_loss, valid_loss, *metrics]`."""
        return self.values[-1] if self.values else []

    def before_fit(self) -> None:
        self.lrs, self.moms, self._losses, self._raw_losses, self._pending = [], [], [], [], []
        self.iters, self.values, self.times = [], [], []
        self._smooth_loss, self._avg, self._count = float("nan"), 0.0, 0

    def before_epoch(self) -> None:
        self._start = time.perf_counter()
        self.valid_values = []

    def before_validate(self) -> None:
        self._vloss = 0.0
        self._vcount = 0
        for m in self.learn.metrics:
            m.reset()

    def after_batch(self) -> None:
        learn = self.learn
        if learn.training:
            loss = learn.loss
            if loss is None:  # the batch was cancelled before its loss
                return
            t = loss.detach()
            self._pending.append(t if t.dtype == torch.float32 and t.dim() == 0 else t.float().mean())
            if len(self._pending) >= self.flush_every:
                self._flush()
            opt = learn.opt
            assert opt is not None, "fit creates the optimizer before the first batch"
            self.lrs.append(opt.param_groups[-1]["lr"])
            self.moms.append(get_hyper(opt, "mom"))
            return
        yb = learn.yb
        if not yb or learn.loss is None:
            return
        targ = yb[0]
        bs = targ.shape[0] if targ.ndim else 1
        self._vloss = self._vloss + learn.loss.detach().float() * bs
        self._vcount += bs
        for m in learn.metrics:
            m.accumulate(learn.pred, targ)

    def after_train(self) -> None:
        self._flush()

    def after_validate(self) -> None:
        if not self._vcount:
            self.valid_values = [None] * (1 + len(self.learn.metrics))
            return
        vals = [m.value for m in self.learn.metrics]
        self.valid_values = [float(self._vloss) / self._vcount, *(None if v is None else float(v) for v in vals)]
        self._vloss, self._vcount = 0.0, 0

    def after_epoch(self) -> None:
        self._flush()
        valid = self.valid_values or [None] * (1 + len(self.learn.metrics))
        self.values.append([None if self._count == 0 else self._smooth_loss, *valid])
        self.iters.append(len(self._losses))
        self.times.append(time.perf_counter() - self._start)

    def plot_loss(self, path: str | Path | None = None, skip_start: int = 5, with_valid: bool = True) -> Path:
        """Save the smoothed training loss (and the validation loss per epoch) as a PNG."""
        fig, ax = new_axes()
        xs = list(range(skip_start, len(self.losses)))
        ax.plot(xs, self.losses[skip_start:], label="train")
        if with_valid:
            pts = [(i, v[1]) for i, v in zip(self.iters, self.values) if i >= skip_start and v[1] is not None]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label="valid")
        ax.set_xlabel("batch")
        ax.set_ylabel("loss")
        ax.legend()
        return save_figure(fig, path, "loss.png")

    def plot_lr(self, path: str | Path | None = None, show_moms: bool = True) -> Path:
        """Save the learning rate (and momentum) of the last group per batch as a PNG."""
        fig, ax = new_axes()
        ax.plot(self.lrs, label="lr")
        ax.set_xlabel("batch")
        ax.set_ylabel("learning rate")
        if show_moms and any(m is not None for m in self.moms):
            ax2 = ax.twinx()
            ax2.plot(self.moms, color="tab:orange", label="mom")
            ax2.set_ylabel("momentum")
        return save_figure(fig, path, "lr.png")
