"""Interpreting a learner's predictions, fastai-style: `Interpretation` (top losses, for any task:
single-label, multi-label, regression) and `ClassificationInterpretation` (also the confusion matrix
and the most confused classes, for single-label classifiers)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import RandomSampler

from graftzoo.errors import ConfigError, GraftzooError
from graftzoo.data_protocol import dls_attr

__all__ = ["ClassificationInterpretation", "Interpretation"]


def _item_losses(loss_func: Any, probs: Tensor, targets: Tensor) -> Tensor:
    """Per-item losses from probabilities: log-probabilities stand in for the logits (softmax-invariant).

    Uses a `reduction='none'` copy of `loss_func`, or cross-entropy when it has no `reduction`.
    """
    logits = probs.float().clamp_min(torch.finfo(torch.float32).tiny).log()
    if loss_func is not None and hasattr(loss_func, "reduction"):
        f = copy.copy(loss_func)
        f.reduction = "none"
        losses = f(logits, targets)
    else:
        losses = F.cross_entropy(logits, targets.long(), reduction="none")
    return losses.reshape(len(targets), -1).mean(dim=1) if losses.dim() > 1 else losses


def _gather(learn: Any, dl: Any) -> tuple[Tensor, Tensor, Tensor]:
    """(probabilities, targets, per-item losses) from `learn.get_preds`, losses computed here when needed."""
    try:
        out = learn.get_preds(dl=dl, with_loss=True)
    except (ConfigError, TypeError):  # the loss has no `reduction`, or get_preds takes no with_loss
        out = learn.get_preds(dl=dl)
    probs, targets = out[0], out[1]
    losses = out[2] if len(out) > 2 and isinstance(out[2], Tensor) else None
    if losses is None:
        losses = _item_losses(getattr(learn, "loss_func", None), probs, targets)
    elif losses.dim() > 1:  # one loss per output (multi-label, several values): the item's mean
        losses = losses.reshape(len(targets), -1).mean(dim=1)
    return probs.float().cpu(), targets.cpu(), losses.detach().float().cpu()


def _decode(learn: Any, probs: Tensor) -> Tensor:
    """Decoded predictions: the learner's or the task's `decode`, else argmax."""
    for owner in (learn, getattr(getattr(learn, "model", None), "task", None)):
        decode = getattr(owner, "decode", None)
        if callable(decode):
            decoded = decode(probs)
            if isinstance(decoded, Tensor) and decoded.shape == probs.shape[:1]:
                return decoded.long()
    return probs.argmax(dim=1)


class Interpretation:
    """Predictions over a DataLoader, for any task: per-item losses, `top_losses`, `plot_top_losses`.

    Holds `probs` (the activated predictions: probabilities, or values for regression), `targets`,
    `decoded` (the task's decoding of `probs`), per-item `losses` (N,), `vocab` and the `task` that
    turns them into labels; `dl` (not shuffled, in the order of the predictions) and `dls` serve
    `plot_top_losses`. For a single-label classifier, `ClassificationInterpretation` adds the
    confusion matrix.
    """

    def __init__(self, probs: Tensor, targets: Tensor, losses: Tensor, vocab: Sequence[str] | None = None,
                 decoded: Tensor | None = None, dl: Any = None, dls: Any = None, task: Any = None) -> None:
        if len(probs) != len(targets) or losses.dim() != 1 or len(losses) != len(targets):
            raise ConfigError(f"Interpretation needs one prediction, target and loss per item; got {tuple(probs.shape)}, "
                              f"{tuple(targets.shape)} and {tuple(losses.shape)}.")
        self.probs, self.targets, self.losses = probs, targets, losses
        self.decoded = probs if decoded is None else decoded
        self.vocab = list(vocab) if vocab is not None else None
        self.task, self.dl, self.dls = task, dl, dls

    @classmethod
    def from_learner(cls, learn: Any, dl: Any = None) -> Interpretation:
        """Run `learn.get_preds` over `dl` (default: the validation loader) and keep everything."""
        dls = getattr(learn, "dls", None)
        dl = dl if dl is not None else dls_attr(dls, "valid")
        probs, targets, losses = _gather(learn, dl)
        task = getattr(getattr(learn, "model", None), "task", None)
        decoded = task.decode(probs) if task is not None else None
        return cls(probs, targets, losses, dls_attr(dls, "vocab"), decoded, dl=dl, dls=dls, task=task)

    def label(self, value: Tensor) -> str:
        """One item's decoded prediction or target as text: a class, tags joined by ';', or values."""
        if self.task is None:
            found: Any = value.reshape(-1).tolist()
        else:
            found = self.task.decode_labels(value, self.vocab)
        if isinstance(found, list):
            return ";".join(f"{v:.3g}" if isinstance(v, float) else str(v) for v in found) or "-"
        return str(found)

    def _titles(self, losses: Tensor, idx: Tensor) -> list[str]:
        """"predicted/actual" over the loss (and `_note`), for each item of `idx`."""
        return [f"{self.label(self.decoded[i])}/{self.label(self.targets[i])}\n{float(loss):.2f}{self._note(int(i))}"
                for loss, i in zip(losses, idx)]

    def _note(self, i: int) -> str:
        return ""

    # ---- losses --------------------------------------------------------------------------------
    def top_losses(self, k: int | None = None, largest: bool = True) -> tuple[Tensor, Tensor]:
        """The `k` largest (or smallest) per-item losses and their indices (all items when `k` is None)."""
        losses, idx = self.losses.sort(descending=largest, stable=True)
        k = len(idx) if k is None else min(k, len(idx))
        return losses[:k], idx[:k]

    def plot_top_losses(self, k: int = 9, path: str | Path | None = None, largest: bool = True) -> Path:
        """Save the `k` worst-predicted images as a PNG grid, each titled "predicted/actual" over its loss
        (and, for single-label classes, the probability of the predicted class).

        Images are un-normalized with the dls stats when known, else min-max scaled.
        """
        from graftzoo_vision.data.show import default_figure_path, save_batch_grid

        losses, idx = self.top_losses(k, largest)
        images = self._images(idx.tolist())
        titles = self._titles(losses, idx)
        return save_batch_grid(images, titles, path if path is not None else default_figure_path("top_losses.png"))

    def _images(self, indices: list[int]) -> Tensor:
        """Model inputs of items `indices` of `dl`, as (N, C, H, W) images in [0, 1] for display."""
        dataset = getattr(self.dl, "dataset", None)
        if dataset is None:
            raise GraftzooError("plot_top_losses needs the DataLoader the predictions came from (dl=...).")
        if isinstance(getattr(self.dl, "sampler", None), RandomSampler):
            raise ConfigError(
                "plot_top_losses needs a DataLoader that does not shuffle (its order is the predictions')."
            )
        collate = getattr(self.dl, "collate_fn", None) or torch.utils.data.default_collate
        batch = collate([dataset[i] for i in indices])
        tfm = dls_attr(self.dls, "batch_transform")
        if tfm is not None:
            batch = tfm(batch, False)
        x = batch[0].detach().cpu()
        if not x.is_floating_point():  # raw uint8 images
            return x.float() / 255.0
        denorm = dls_attr(self.dls, "denormalize")
        if callable(denorm):
            return denorm(x).clamp(0, 1)
        stats = dls_attr(self.dls, "stats")
        if stats is not None:
            mean, std = (torch.tensor(s, dtype=x.dtype).view(-1, 1, 1) for s in stats)
            return (x * std + mean).clamp(0, 1)
        return torch.stack([_min_max(img) for img in x.float()])

    def __repr__(self) -> str:
        return f"Interpretation(n={len(self.targets)}, task={getattr(self.task, 'name', None)})"


class ClassificationInterpretation(Interpretation):
    """Predictions of a single-label classifier over a DataLoader, ready to inspect.

    Holds `probs` (N, n_classes), `targets` (N,), `decoded` (N,) predicted indices, per-item `losses` (N,)
    and `vocab`; `dl` (not shuffled, in the order of the predictions) and `dls` serve `plot_top_losses`.
    """

    def __init__(
        self,
        probs: Tensor,
        targets: Tensor,
        losses: Tensor,
        vocab: Sequence[str] | None = None,
        decoded: Tensor | None = None,
        dl: Any = None,
        dls: Any = None,
    ) -> None:
        if probs.dim() != 2 or targets.dim() != 1 or len(probs) != len(targets) or len(losses) != len(targets):
            raise ConfigError(
                "ClassificationInterpretation needs probs (N, n_classes), single-label targets (N,) and losses (N,); "
                f"got {tuple(probs.shape)}, {tuple(targets.shape)}, {tuple(losses.shape)}. For multi-label or "
                "regression learners use Interpretation.from_learner (top losses)."
            )
        n = probs.shape[1]
        names = list(vocab) if vocab is not None else [str(i) for i in range(n)]
        if len(names) != n:
            raise ConfigError(f"the vocab has {len(names)} classes but the predictions have {n}.")
        super().__init__(probs, targets.long(), losses, names, probs.argmax(dim=1) if decoded is None else decoded.long(),
                         dl=dl, dls=dls)
        self.vocab: list[str] = names

    @classmethod
    def from_learner(cls, learn: Any, dl: Any = None) -> ClassificationInterpretation:
        """Run `learn.get_preds` over `dl` (default: the validation loader) and keep everything."""
        dls = getattr(learn, "dls", None)
        dl = dl if dl is not None else dls_attr(dls, "valid")
        probs, targets, losses = _gather(learn, dl)
        return cls(probs, targets, losses, dls_attr(dls, "vocab"), _decode(learn, probs), dl=dl, dls=dls)

    def label(self, value: Tensor) -> str:
        return self.vocab[int(value)]

    def _note(self, i: int) -> str:
        """The probability of the predicted class."""
        return f" / {float(self.probs[i, self.decoded[i]]):.2f}"

    # ---- confusion -----------------------------------------------------------------------------
    def confusion_matrix(self) -> Tensor:
        """(n_classes, n_classes) counts: rows are actual classes, columns predicted (as sklearn's)."""
        n = len(self.vocab)
        flat = self.targets * n + self.decoded
        return torch.bincount(flat, minlength=n * n).reshape(n, n)

    def most_confused(self, min_val: int = 1) -> list[tuple[str, str, int]]:
        """(actual, predicted, count) for off-diagonal cells with count >= `min_val`, most frequent first."""
        cm = self.confusion_matrix()
        cells = [
            (self.vocab[a], self.vocab[p], int(cm[a, p]))
            for a in range(len(self.vocab))
            for p in range(len(self.vocab))
            if a != p and int(cm[a, p]) >= min_val
        ]
        return sorted(cells, key=lambda cell: -cell[2])  # stable: ties stay in (actual, predicted) order

    def plot_confusion_matrix(self, path: str | Path | None = None, normalize: bool = False,
                              title: str = "Confusion matrix", cmap: str = "Blues") -> Path:
        """Save the confusion matrix (counts, or row fractions with `normalize`) annotated, as a PNG."""
        from graftzoo.learner.plotting import new_figure, save_figure

        cm = self.confusion_matrix().float()
        if normalize:
            cm = cm / cm.sum(dim=1, keepdim=True).clamp_min(1)
        n = len(self.vocab)
        side = max(4.0, 0.5 * n + 2.0)
        fig = new_figure((side, side))
        ax = fig.add_subplot(1, 1, 1)
        ax.imshow(cm.numpy(), interpolation="nearest", cmap=cmap)
        ax.set_title(title)
        ax.set_xticks(range(n), self.vocab, rotation=90)
        ax.set_yticks(range(n), self.vocab)
        ax.set_xlabel("Predicted")
        ax.set_ylabel("Actual")
        thresh = float(cm.max()) / 2
        for a in range(n):
            for p in range(n):
                value = float(cm[a, p])
                ax.text(p, a, f"{value:.2f}" if normalize else str(int(value)), ha="center", va="center",
                        color="white" if value > thresh else "black", fontsize=max(6, 12 - n // 4))
        ax.grid(False)
        return save_figure(fig, path, "confusion_matrix.png")

    def __repr__(self) -> str:
        return f"ClassificationInterpretation(n={len(self.targets)}, classes={len(self.vocab)})"


def _min_max(img: Tensor) -> Tensor:
    lo, hi = img.min(), img.max()
    return (img - lo) / (hi - lo) if hi > lo else torch.zeros_like(img)
