"""Metrics: plain functions `(pred, targ) -> scalar tensor` and corpus-level classes.

Plain functions are averaged over batches weighted by batch size. Corpus-level
metrics (subclasses of `Metric`) see every batch through `accumulate(pred, targ)`
and compute `value` once over the whole set. `pred` is the raw model output
(logits); each metric applies the activation it needs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from graftzoo.errors import ConfigError

__all__ = [
    "AvgMetric", "F1Score", "F1ScoreMulti", "FBetaMulti", "Metric", "Precision", "R2Score", "RMSE", "Recall",
    "RocAuc", "accuracy", "accuracy_multi", "as_metric", "error_rate", "fbeta_multi", "mae", "metric_name", "mse",
    "rmse", "top_k_accuracy",
]


def _flat(pred: Tensor, targ: Tensor) -> tuple[Tensor, Tensor]:
    pred, targ = pred.reshape(-1), targ.reshape(-1)
    if pred.numel() != targ.numel():
        raise ConfigError(
            f"metric got {pred.numel()} predictions for {targ.numel()} targets; check that the "
            "model output and the targets have matching shapes."
        )
    return pred, targ


def accuracy(pred: Tensor, targ: Tensor) -> Tensor:
    """Fraction of samples whose argmax over the last dim equals the target."""
    p, t = _flat(pred.argmax(dim=-1), targ)
    return (p == t).float().mean()


def error_rate(pred: Tensor, targ: Tensor) -> Tensor:
    """1 - accuracy."""
    return 1 - accuracy(pred, targ)


def top_k_accuracy(pred: Tensor, targ: Tensor, k: int = 5) -> Tensor:
    """Fraction of samples whose target is among the `k` highest scores."""
    top = pred.topk(k=k, dim=-1)[1]
    return (top == targ.unsqueeze(-1)).any(dim=-1).float().mean()


def accuracy_multi(pred: Tensor, targ: Tensor, thresh: float = 0.5, sigmoid: bool = True) -> Tensor:
    """Multi-label accuracy: fraction of (sample, label) pairs right at threshold `thresh`."""
    p, t = _flat(pred, targ)
    if sigmoid:
        p = p.sigmoid()
    return ((p > thresh) == t.bool()).float().mean()


def _fbeta(tp: Tensor, pred_pos: Tensor, true_pos: Tensor, beta: float) -> Tensor:
    """F-beta from counts, 0 where it is undefined (no prediction and no target: sklearn's zero_division=0)."""
    b2 = beta * beta
    denom = b2 * true_pos + pred_pos
    return torch.where(denom > 0, (1 + b2) * tp / denom.clamp(min=1e-12), torch.zeros_like(tp))


def fbeta_multi(pred: Tensor, targ: Tensor, beta: float = 2.0, thresh: float = 0.5, sigmoid: bool = True) -> Tensor:
    """Multi-label F-beta of each sample over its labels, averaged over the batch (fastai v1's `fbeta`).

    A sample with no predicted and no true label scores 0, as sklearn's `average='samples'`.
    """
    if pred.shape != targ.shape:
        raise ConfigError(f"fbeta_multi needs predictions and multi-hot targets of one shape, got {tuple(pred.shape)} and {tuple(targ.shape)}.")
    p = (pred.float().sigmoid() if sigmoid else pred.float()) > thresh
    t = targ.bool()
    tp = (p & t).float().sum(-1)
    return _fbeta(tp, p.float().sum(-1), t.float().sum(-1), beta).mean()


def mse(pred: Tensor, targ: Tensor) -> Tensor:
    """Mean squared error."""
    p, t = _flat(pred, targ)
    return (p.float() - t.float()).pow(2).mean()


def mae(pred: Tensor, targ: Tensor) -> Tensor:
    """Mean absolute error."""
    p, t = _flat(pred, targ)
    return (p.float() - t.float()).abs().mean()


def rmse(pred: Tensor, targ: Tensor) -> Tensor:
    """Root mean squared error of one batch (the learner averages batches; `RMSE()` is exact)."""
    return mse(pred, targ).sqrt()


def metric_name(func: Callable[..., Any]) -> str:
    """The display name of a metric function (unwrapping functools.partial)."""
    while isinstance(func, functools.partial):
        func = func.func
    return getattr(func, "__name__", type(func).__name__)


class Metric:
    """Base of corpus-level metrics: `reset()`, `accumulate(pred, targ)`, `value`, `name`.

    Under data-parallel training each rank accumulates its shard; `sum_states` names the
    attributes summed across ranks and `cat_states` the lists of tensors concatenated across
    ranks, before `value` is read (see `graftzoo.learner.reduction`).
    """

    name: str = "metric"
    sum_states: tuple[str, ...] = ()
    cat_states: tuple[str, ...] = ()

    def reset(self) -> None:
        raise NotImplementedError

    def accumulate(self, pred: Tensor, targ: Tensor) -> None:
        raise NotImplementedError

    @property
    def value(self) -> float | None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class AvgMetric(Metric):
    """Average of a plain metric function over batches, weighted by batch size (no syncs)."""

    sum_states = ("total", "count")

    def __init__(self, func: Callable[[Tensor, Tensor], Tensor]) -> None:
        self.func, self.name = func, metric_name(func)
        self.reset()

    def reset(self) -> None:
        self.total: Tensor | float = 0.0
        self.count = 0

    def accumulate(self, pred: Tensor, targ: Tensor) -> None:
        bs = targ.shape[0] if targ.ndim else 1
        self.total = self.total + self.func(pred, targ).detach() * bs
        self.count += bs

    @property
    def value(self) -> float | None:
        return float(self.total) / self.count if self.count else None


def as_metric(m: Any) -> Metric:
    """Wrap a metric for the learner: a Metric stays, a Metric class is built, a function is averaged."""
    if isinstance(m, type) and issubclass(m, Metric):
        return m()
    if hasattr(m, "accumulate") and hasattr(m, "reset") and hasattr(m, "value"):
        return m
    if callable(m):
        return AvgMetric(m)
    raise ConfigError(f"metric {m!r} is neither a function (pred, targ) -> tensor nor a Metric.")


class _Gather(Metric):
    """Keeps (decoded) predictions and targets of every batch for a corpus-level value."""

    cat_states = ("preds", "targs")

    def reset(self) -> None:
        self.preds: list[Tensor] = []
        self.targs: list[Tensor] = []

    def __init__(self) -> None:
        self.reset()

    def _decode(self, pred: Tensor) -> Tensor:
        return pred

    def accumulate(self, pred: Tensor, targ: Tensor) -> None:
        self.preds.append(self._decode(pred.detach()))
        self.targs.append(targ.detach())

    def _cat(self) -> tuple[Tensor, Tensor]:
        return torch.cat(self.preds).cpu(), torch.cat(self.targs).cpu()


def _classes(pred: Tensor) -> Tensor:
    """Class ids: argmax over the last dim, or logit > 0 for a single output."""
    if pred.ndim > 1 and pred.shape[-1] > 1:
        return pred.argmax(dim=-1)
    return (pred.reshape(-1) > 0).long()


_AVERAGES = ("macro", "micro", "weighted", "binary")


class _PRF(_Gather):
    """Precision / recall / F1 from a confusion matrix, averaged like sklearn (zero_division=0)."""

    kind = "f1"

    def __init__(self, average: str = "macro", pos_label: int = 1, labels: Sequence[int] | None = None) -> None:
        if average not in _AVERAGES:
            raise ConfigError(f"average={average!r} is not one of {_AVERAGES}.")
        self.average, self.pos_label, self.labels = average, pos_label, labels
        super().__init__()

    def _decode(self, pred: Tensor) -> Tensor:
        return _classes(pred)

    @property
    def value(self) -> float | None:
        if not self.preds:
            return None
        p, t = self._cat()
        p, t = p.reshape(-1).long(), t.reshape(-1).long()
        n = int(max(p.max(), t.max())) + 1
        cm = torch.bincount(t * n + p, minlength=n * n).reshape(n, n).double()
        tp, pred_pos, true_pos = cm.diag(), cm.sum(0), cm.sum(1)
        if self.labels is not None:
            idx = torch.tensor(list(self.labels))
        elif self.average == "binary":
            idx = torch.tensor([self.pos_label])
        else:
            idx = torch.nonzero((pred_pos + true_pos) > 0).reshape(-1)
        tp, pred_pos, true_pos = tp[idx], pred_pos[idx], true_pos[idx]
        if self.average == "micro":
            tp, pred_pos, true_pos = tp.sum(0, keepdim=True), pred_pos.sum(0, keepdim=True), true_pos.sum(0, keepdim=True)
        scores = self._score(tp, pred_pos, true_pos)
        if self.average == "weighted":
            return float((scores * true_pos).sum() / true_pos.sum()) if true_pos.sum() > 0 else 0.0
        return float(scores.mean())

    def _score(self, tp: Tensor, pred_pos: Tensor, true_pos: Tensor) -> Tensor:
        prec = torch.where(pred_pos > 0, tp / pred_pos.clamp(min=1), torch.zeros_like(tp))
        rec = torch.where(true_pos > 0, tp / true_pos.clamp(min=1), torch.zeros_like(tp))
        if self.kind == "precision":
            return prec
        if self.kind == "recall":
            return rec
        denom = pred_pos + true_pos
        return torch.where(denom > 0, 2 * tp / denom.clamp(min=1), torch.zeros_like(tp))


class F1Score(_PRF):
    """F1 score over the whole set (sklearn's f1_score semantics)."""

    name, kind = "f1_score", "f1"


class Precision(_PRF):
    """Precision over the whole set (sklearn's precision_score semantics)."""

    name, kind = "precision_score", "precision"


class Recall(_PRF):
    """Recall over the whole set (sklearn's recall_score semantics)."""

    name, kind = "recall_score", "recall"


def _binary_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve from ranks (ties share their average rank)."""
    n_pos = int(labels.sum())
    n_neg = labels.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    _, inv, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    avg_rank = ends - (counts - 1) / 2.0  # 1-based average rank of each distinct score
    rank_sum = avg_rank[inv][labels.astype(bool)].sum()
    return float((rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


class RocAuc(_Gather):
    """ROC AUC over the whole set: binary (sigmoid of one logit, or softmax of two),
    else one-vs-rest macro average of softmax probabilities (sklearn's 'ovr')."""

    name = "roc_auc_score"

    def _decode(self, pred: Tensor) -> Tensor:
        if pred.ndim > 1 and pred.shape[-1] > 1:
            return pred.float().softmax(dim=-1)
        return pred.float().reshape(-1).sigmoid()

    @property
    def value(self) -> float | None:
        if not self.preds:
            return None
        pred, targ = self._cat()
        p, t = pred.double().numpy(), targ.reshape(-1).long().numpy()
        if p.ndim == 1:
            return _binary_auc(p, t)
        if p.shape[1] == 2:
            return _binary_auc(p[:, 1], t)
        aucs = [_binary_auc(p[:, c], t == c) for c in range(p.shape[1]) if (t == c).any()]
        return float(np.mean(aucs)) if aucs else float("nan")


class R2Score(_Gather):
    """Coefficient of determination over the whole set (per output column, then averaged)."""

    name = "r2_score"

    @property
    def value(self) -> float | None:
        if not self.preds:
            return None
        p, t = self._cat()
        p, t = p.double().reshape(t.shape[0], -1), t.double().reshape(t.shape[0], -1)
        ss_res = (t - p).pow(2).sum(0)
        ss_tot = (t - t.mean(0)).pow(2).sum(0)
        r2 = torch.where(ss_tot > 0, 1 - ss_res / ss_tot.clamp(min=1e-300), torch.where(ss_res > 0, 0.0, 1.0))
        return float(r2.mean())


class RMSE(Metric):
    """Root mean squared error over the whole set (exact, unlike averaging `rmse`)."""

    name = "rmse"
    sum_states = ("sq", "n")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.sq: Tensor | float = 0.0
        self.n = 0

    def accumulate(self, pred: Tensor, targ: Tensor) -> None:
        p, t = _flat(pred.detach(), targ.detach())
        self.sq = self.sq + (p.float() - t.float()).pow(2).sum()
        self.n += t.numel()

    @property
    def value(self) -> float | None:
        return float(self.sq / self.n) ** 0.5 if self.n else None


_MULTI_AVERAGES = ("macro", "micro", "weighted", "samples")


class FBetaMulti(_Gather):
    """Multi-label F-beta over the whole set (sklearn's `fbeta_score` on multi-hot targets, zero_division=0).

    Predictions are `sigmoid(logit) > thresh` (`sigmoid=False`: the outputs are probabilities);
    `average` is "macro" (mean over classes, fastai's default), "micro", "weighted" (by support) or
    "samples" (mean over items).
    """

    name = "fbeta_score"

    def __init__(self, beta: float = 2.0, thresh: float = 0.5, sigmoid: bool = True, average: str = "macro") -> None:
        if average not in _MULTI_AVERAGES:
            raise ConfigError(f"average={average!r} is not one of {_MULTI_AVERAGES}.")
        self.beta, self.thresh, self.sigmoid, self.average = beta, thresh, sigmoid, average
        super().__init__()

    def _decode(self, pred: Tensor) -> Tensor:
        return (pred.float().sigmoid() if self.sigmoid else pred.float()) > self.thresh

    @property
    def value(self) -> float | None:
        if not self.preds:
            return None
        p, t = self._cat()
        if p.shape != t.shape:
            raise ConfigError(f"{self.name} needs multi-hot targets shaped like the outputs, got {tuple(t.shape)} for {tuple(p.shape)}.")
        p, t = p.bool(), t.bool()
        axis = 1 if self.average == "samples" else 0
        tp = (p & t).double().sum(axis)
        pred_pos, true_pos = p.double().sum(axis), t.double().sum(axis)
        if self.average == "micro":
            tp, pred_pos, true_pos = tp.sum(), pred_pos.sum(), true_pos.sum()
        scores = _fbeta(tp, pred_pos, true_pos, self.beta)
        if self.average == "weighted":
            return float((scores * true_pos).sum() / true_pos.sum()) if true_pos.sum() > 0 else 0.0
        return float(scores.mean())

    def __repr__(self) -> str:
        return f"{type(self).__name__}(beta={self.beta}, thresh={self.thresh}, average={self.average!r})"


class F1ScoreMulti(FBetaMulti):
    """Multi-label F1 over the whole set (`FBetaMulti` with beta=1)."""

    name = "f1_score"

    def __init__(self, thresh: float = 0.5, sigmoid: bool = True, average: str = "macro") -> None:
        super().__init__(1.0, thresh, sigmoid, average)
