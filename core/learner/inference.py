"""Predictions: GatherPreds (collects a validation pass), `get_preds` and `predict`."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from graftzoo.errors import ConfigError
from graftzoo.learner.callback import Callback
from graftzoo.learner.loop import to_device
from graftzoo.data_protocol import dls_attr

if TYPE_CHECKING:
    from graftzoo.learner.learner import Learner

__all__ = ["GatherPreds", "get_preds", "predict", "default_decode", "unreduced_loss"]


def default_decode(probs: Tensor) -> Tensor:
    """Argmax over the last dim when there is a class dim, else the values themselves."""
    return probs.argmax(dim=-1) if probs.ndim > 1 else probs


def unreduced_loss(loss_func: Any) -> Any:
    """A copy of `loss_func` that returns one loss per item (`reduction='none'`)."""
    if not hasattr(loss_func, "reduction"):
        raise ConfigError(
            "get_preds(with_loss=True) needs a loss with a `reduction` attribute (an nn.Module loss "
            "such as nn.CrossEntropyLoss); this loss has none."
        )
    f = copy.copy(loss_func)
    f.reduction = "none"
    return f


def _cat(parts: list[Any]) -> Any:
    if not parts:
        return None
    if isinstance(parts[0], Tensor):
        return torch.cat(parts)
    return tuple(_cat(list(p)) for p in zip(*parts))


class GatherPreds(Callback):
    """Keeps the predictions, targets (and inputs, per-item losses) of a validation pass on CPU."""

    order = 55
    run_train = False

    def __init__(self, with_input: bool = False, with_loss: bool = False) -> None:
        self.with_input, self.with_loss = with_input, with_loss
        self.preds: list[Any] = []
        self.targs: list[Any] = []
        self.inputs: list[Any] = []
        self.losses: list[Tensor] = []

    def before_validate(self) -> None:
        self.preds, self.targs, self.inputs, self.losses = [], [], [], []
        self._loss_none = unreduced_loss(self.learn.loss_func) if self.with_loss else None

    def after_batch(self) -> None:
        learn = self.learn
        if learn.pred is None:
            return
        pred = learn.pred.detach()
        self.preds.append(pred.float().cpu() if pred.is_floating_point() else pred.cpu())
        self.targs.append(learn.yb[0].detach().cpu())
        if self.with_input:
            xs = tuple(x.detach().cpu() for x in learn.xb)
            self.inputs.append(xs[0] if len(xs) == 1 else xs)
        if self._loss_none is not None:
            self.losses.append(self._loss_none(learn.pred, *learn.yb).detach().float().cpu())


def get_preds(
    learn: Learner, dl: Any = None, with_input: bool = False, with_decoded: bool = False,
    with_loss: bool = False, act: Callable[[Tensor], Tensor] | None = None,
) -> tuple[Any, ...]:
    """fastai's order: `(inputs?, preds, targets, decoded?, losses?)` over `dl` (default: validation set).

    `preds` are activated with `act` (default: the task's activation, e.g. softmax); `decoded`
    is `learn.decode(preds)` (argmax for single-label, threshold for multi-label, the values
    for regression); `losses` are per item (the loss with `reduction='none'`).
    """
    cb = GatherPreds(with_input=with_input, with_loss=with_loss)
    with learn.added_cbs([cb]):
        try:
            learn._do_epoch_validate(dl)
        finally:
            learn._end_cleanup()
    preds = _cat(cb.preds)
    if preds is not None:
        preds = (learn.activation if act is None else act)(preds)
    res: list[Any] = [preds, _cat(cb.targs)]
    if with_input:
        res.insert(0, _cat(cb.inputs))
    if with_decoded:
        res.append(learn.decode(preds) if preds is not None else None)
    if with_loss:
        res.append(_cat(cb.losses))
    return tuple(res)


def _encode(learn: Learner, item: Any) -> tuple[Tensor, ...]:
    from graftzoo.preprocessor import Preprocessor

    pre = dls_attr(learn.dls, "preprocessor")
    if isinstance(pre, Preprocessor) and getattr(getattr(learn.model, "head", None), "n_inputs", 1) == 1:
        return pre.encode([item])
    enc = dls_attr(learn.dls, "encode_item")
    if enc is not None:
        xb = enc(item)
        return tuple(xb) if isinstance(xb, (tuple, list)) else (xb,)
    if not isinstance(item, Tensor):
        raise ConfigError(
            f"predict() got a {type(item).__name__}; without dls.encode_item it needs a tensor "
            "(one sample, no batch dim)."
        )
    return (item.unsqueeze(0),)


def predict(learn: Learner, item: Any) -> tuple[Any, Tensor, Tensor]:
    """`(label, decoded index, probabilities)` for one item.

    The item becomes model inputs with batch dim 1 through `dls.preprocessor` (the same
    preprocessing a saved head records, so `load_head(...).predict` agrees), else
    `dls.encode_item`, else `item.unsqueeze(0)` (taken as ready for the model); `dls.batch_transform` is not applied again. The label is
    `task.decode_labels(decoded, vocab)` when the model's task has it, else
    `dls.vocab[index]` when the dls have a vocab, else the index.
    """
    xb = to_device(_encode(learn, item), learn.device)
    learn.model.eval()
    with torch.no_grad(), learn.precision.autocast(learn.device.type):
        out = learn.model(*xb)
    probs = learn.activation(out.float()).cpu()
    decoded = learn.decode(probs)[0]
    decode_labels = getattr(learn.task, "decode_labels", None)
    if callable(decode_labels):
        return decode_labels(decoded, dls_attr(learn.dls, "vocab")), decoded, probs[0]
    return _label(learn, decoded), decoded, probs[0]


def _label(learn: Learner, decoded: Tensor) -> Any:
    vocab = dls_attr(learn.dls, "vocab")
    if vocab is None:
        return decoded.item() if decoded.numel() == 1 and not decoded.is_floating_point() else decoded
    if decoded.numel() == 1 and not decoded.is_floating_point() and decoded.dtype != torch.bool:
        return vocab[int(decoded)]
    if decoded.ndim == 1 and decoded.numel() == len(vocab):  # multi-label: one flag per class
        return [v for v, on in zip(vocab, decoded.tolist()) if on]
    return decoded
