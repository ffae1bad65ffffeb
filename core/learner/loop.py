"""The event-driven training loop under Learner (fastai's, with cheap dispatch).

For every event, the bound methods of the callbacks that define it are computed
once (sorted by `order`), separately for training and validation, so firing an
event that nobody handles costs one dict lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
from torch import Tensor

from graftzoo.errors import ConfigError
from graftzoo.learner.callback import (
    EVENTS,
    INNER_EVENTS,
    Callback,
    CancelBackwardException,
    CancelBatchException,
    CancelEpochException,
    CancelFitException,
    CancelStepException,
    CancelTrainException,
    CancelValidException,
    handles,
)
from graftzoo.learner.distributed import data_parallel
from graftzoo.learner.mixed_precision import Precision
from graftzoo.data_protocol import dls_attr

__all__ = ["TrainLoop", "to_device"]

Handlers = dict[str, list[Callable[[], Any]]]
_NAMES = {
    n: (f"before_{n}", f"after_cancel_{n}", f"after_{n}")
    for n in ("fit", "epoch", "train", "validate", "batch", "backward", "step")
}


def to_device(obj: Any, device: torch.device) -> Any:
    """Move tensors (also inside lists, tuples and dicts) to `device`."""
    if isinstance(obj, Tensor):
        return obj if obj.device == device else obj.to(device, non_blocking=True)
    if isinstance(obj, list):
        return [to_device(o, device) for o in obj]
    if isinstance(obj, tuple):
        items = [to_device(o, device) for o in obj]
        return type(obj)(*items) if hasattr(obj, "_fields") else tuple(items)
    if isinstance(obj, dict):
        return {k: to_device(v, device) for k, v in obj.items()}
    return obj


def _len(dl: Any) -> int | None:
    try:
        return len(dl)
    except TypeError:
        return None


class TrainLoop:
    """State and event plumbing of a fit; `Learner` adds the public API on top."""

    model: torch.nn.Module
    opt: torch.optim.Optimizer | None
    loss_func: Callable[..., Tensor]
    dls: Any
    device: torch.device
    precision: Precision
    channels_last: bool

    def _init_loop(self) -> None:
        self.cbs: list[Callback] = []
        self._ev_train: Handlers = {}
        self._ev_valid: Handlers = {}
        self._ev: Handlers = {}
        self.training = False
        self.epoch, self.n_epoch, self.iter, self.n_iter = 0, 0, 0, 0
        self.start_epoch, self.epochs_done, self.in_fit = 0, 0, False
        self.train_iter, self.pct_train, self._pct_step = 0, 0.0, 0.0
        self.dl: Any = None
        self.xb: tuple[Any, ...] = ()
        self.yb: tuple[Any, ...] = ()
        self.pred: Any = None
        self._loss: Tensor | None = None
        self._loss_value: float | None = None
        self.wrapped_model: torch.nn.Module | None = None  # the DDP wrapper during a distributed fit

    # -- callbacks -------------------------------------------------------------------
    def _rebuild_dispatch(self) -> None:
        ordered = sorted(self.cbs, key=lambda c: c.order)

        def table(train: bool) -> Handlers:
            out: Handlers = {}
            for ev in EVENTS:
                inner = ev in INNER_EVENTS
                out[ev] = [
                    getattr(cb, ev)
                    for cb in ordered
                    if handles(cb, ev) and (not inner or (cb.run_train if train else cb.run_valid))
                ]
            return out

        self._ev_train, self._ev_valid = table(True), table(False)
        self._ev = self._ev_train if self.training else self._ev_valid

    def add_cbs(self, cbs: Iterable[Callback | type[Callback]]) -> None:
        """Add callbacks (a class is instantiated) and give each `cb.learn`."""
        for cb in cbs:
            if isinstance(cb, type):
                cb = cb()
            cb.learn = self  # type: ignore[assignment]
            self.cbs.append(cb)
        self._rebuild_dispatch()

    def remove_cbs(self, cbs: Iterable[Callback]) -> None:
        """Remove callbacks (by identity)."""
        drop = {id(cb) for cb in cbs}
        self.cbs = [cb for cb in self.cbs if id(cb) not in drop]
        self._rebuild_dispatch()

    def __call__(self, event: str) -> None:
        """Fire `event` (fastai-style `learn("after_batch")`)."""
        for f in self._ev[event]:
            f()

    def _with_events(self, f: Callable[[], None], name: str, exc: type[BaseException]) -> None:
        before, cancel, after = _NAMES[name]
        try:
            for h in self._ev[before]:
                h()
            f()
        except exc:
            for h in self._ev[cancel]:
                h()
        for h in self._ev[after]:
            h()

    # -- loss ------------------------------------------------------------------------
    @property
    def loss(self) -> Tensor | None:
        """The loss of the current batch (callbacks may replace it in `after_loss`)."""
        return self._loss

    @loss.setter
    def loss(self, value: Tensor | None) -> None:
        self._loss, self._loss_value = value, None

    @property
    def loss_value(self) -> float:
        """The current loss as a Python float (one device sync per batch, cached)."""
        if self._loss_value is None:
            t = self._loss.detach()  # type: ignore[union-attr]
            self._loss_value = t.item() if t.numel() == 1 else t.float().mean().item()
        return self._loss_value

    # -- one batch -------------------------------------------------------------------
    def _set_batch(self, batch: Any) -> None:
        if not isinstance(batch, (tuple, list)) or len(batch) < 2:
            raise ConfigError(
                "a batch must be a tuple (input, ..., target) with the target last; got "
                f"{type(batch).__name__}{'' if not isinstance(batch, (tuple, list)) else f' of {len(batch)}'}. "
                "Make the dataset return (x, y) pairs."
            )
        batch = to_device(batch, self.device)
        tfm = self._batch_tfm
        if tfm is not None:
            batch = tfm(batch, self.training)
        xb = tuple(batch[:-1])
        if self.channels_last:
            xb = tuple(
                x.contiguous(memory_format=torch.channels_last)
                if isinstance(x, Tensor) and x.ndim == 4 and x.is_floating_point() else x
                for x in xb
            )
        self.xb, self.yb = xb, (batch[-1],)

    def _do_one_batch(self) -> None:
        model = self.wrapped_model if self.training and self.wrapped_model is not None else self.model
        with self.precision.autocast(self.device.type):
            self.pred = model(*self.xb)
            for h in self._ev["after_pred"]:
                h()
            self.loss = self.loss_func(self.pred, *self.yb)
        for h in self._ev["after_loss"]:
            h()
        if not self.training:
            return
        self._with_events(self._backward, "backward", CancelBackwardException)
        self._with_events(self._step, "step", CancelStepException)
        self.opt.zero_grad(set_to_none=True)  # type: ignore[union-attr]

    def _backward(self) -> None:
        self.precision.backward(self._loss)  # type: ignore[arg-type]

    def _step(self) -> None:
        self.precision.step(self.opt)  # type: ignore[arg-type]

    def _one_batch(self, i: int, batch: Any) -> None:
        self.iter = i
        self.pred, self.loss = None, None
        self._set_batch(batch)
        ev = self._ev
        try:
            for h in ev["before_batch"]:
                h()
            self._do_one_batch()
        except CancelBatchException:
            for h in ev["after_cancel_batch"]:
                h()
        if self.training:
            self.train_iter += 1
            self.pct_train += self._pct_step
        for h in ev["after_batch"]:
            h()

    def _all_batches(self) -> None:
        for i, batch in enumerate(self.dl):
            self._one_batch(i, batch)

    # -- phases ----------------------------------------------------------------------
    def _do_epoch_train(self) -> None:
        self.dl = self.dls.train
        self.training, self._ev = True, self._ev_train
        self.model.train()
        n = _len(self.dl)
        self.n_iter = n or 0
        self.pct_train = self.epoch / self.n_epoch
        self._pct_step = 1.0 / (n * self.n_epoch) if n else 0.0
        self._with_events(self._all_batches, "train", CancelTrainException)

    def _do_epoch_validate(self, dl: Any = None) -> None:
        self.dl = dls_attr(self.dls, "valid") if dl is None else dl
        if self.dl is None:
            raise ConfigError("there is no validation set (dls.valid is None); pass a DataLoader: validate(dl=...).")
        self.n_iter = _len(self.dl) or 0
        self.training, self._ev = False, self._ev_valid
        self.model.eval()
        with torch.no_grad():
            self._with_events(self._all_batches, "validate", CancelValidException)

    def _do_epoch(self) -> None:
        self._do_epoch_train()
        self.epochs_done = self.epoch + 1
        if dls_attr(self.dls, "valid") is not None:
            self._do_epoch_validate()

    def _do_fit(self) -> None:
        for epoch in range(self.start_epoch, self.n_epoch):
            self.epoch = epoch
            self._with_events(self._do_epoch, "epoch", CancelEpochException)

    def _run_fit(self, n_epoch: int, start_epoch: int = 0) -> None:
        """Run epochs `start_epoch`..`n_epoch - 1` of an `n_epoch` fit (schedules see the whole fit)."""
        self.precision.check_device(self.device)
        if not 0 <= start_epoch < n_epoch:
            raise ConfigError(f"start_epoch must be from 0 to n_epoch - 1 ({n_epoch - 1}), got {start_epoch}.")
        self.n_epoch, self.epoch, self.train_iter, self.pct_train = n_epoch, start_epoch, 0, start_epoch / n_epoch
        self.start_epoch, self.epochs_done, self.in_fit = start_epoch, start_epoch, True
        self.opt.zero_grad(set_to_none=True)  # type: ignore[union-attr]
        with data_parallel(self):  # type: ignore[arg-type]  # no-op in one process
            try:
                self._with_events(self._do_fit, "fit", CancelFitException)
            finally:
                self._end_cleanup()

    def _end_cleanup(self) -> None:
        self.dl, self.xb, self.yb, self.pred, self.loss = None, (), (), None, None
        self.training, self._ev, self.in_fit = False, self._ev_valid, False

    @property
    def _batch_tfm(self) -> Callable[[Sequence[Any], bool], Sequence[Any]] | None:
        return dls_attr(self.dls, "batch_transform")
