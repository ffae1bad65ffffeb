"""Segmentation tasks (per-pixel classes, or one binary map) and their whole-set metrics.

Predictions are logits (B, C, H, W), or (B, 1, H, W) for the binary task; targets are class-index
masks (B, H, W). Every metric accumulates one pixel confusion matrix over the validation set and
computes its value once from it, so it is exact for the whole set (not an average of batches).
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from graftzoo.errors import ConfigError
from graftzoo.metrics import Metric
from graftzoo.task import Task


def mask_classes(pred: Tensor) -> Tensor:
    """Class-index masks (B, H, W) from logits (B, C, H, W): argmax over C, or logit > 0 when C == 1."""
    if pred.ndim != 4:
        raise ConfigError(f"segmentation predictions must be (B, C, H, W) logits, got shape {tuple(pred.shape)}")
    return (pred[:, 0] > 0).long() if pred.shape[1] == 1 else pred.argmax(dim=1)


def _mask_target(targ: Tensor) -> Tensor:
    """(B, H, W) class indices; a (B, 1, H, W) target loses its channel dim."""
    if targ.ndim == 4 and targ.shape[1] == 1:
        targ = targ[:, 0]
    if targ.ndim != 3:
        raise ConfigError(f"segmentation targets must be (B, H, W) class-index masks, got shape {tuple(targ.shape)}")
    return targ.long()


class ConfusionMetric(Metric):
    """Base of the segmentation metrics: a (classes x classes) pixel confusion matrix, rows = targets.

    Pixels whose target is `ignore_index` (a "void" code, say) are left out. The number of classes
    is the number of output maps (2 for a single binary map), grown if a target is larger.
    """

    sum_states = ("cm",)  # data-parallel validation sums the ranks' matrices (graftzoo.learner.reduction)

    def __init__(self, ignore_index: int | None = None) -> None:
        self.ignore_index = ignore_index
        self.reset()

    def reset(self) -> None:
        self.cm: Tensor | None = None

    def accumulate(self, pred: Tensor, targ: Tensor) -> None:
        p, t = mask_classes(pred.detach()).reshape(-1), _mask_target(targ.detach()).reshape(-1)
        if p.shape != t.shape:
            raise ConfigError(
                f"{p.numel()} predicted pixels for {t.numel()} target pixels; the model's output must have the "
                "masks' spatial size."
            )
        if self.ignore_index is not None:
            keep = t != self.ignore_index
            p, t = p[keep], t[keep]
        n = max(pred.shape[1], 2, self.cm.shape[0] if self.cm is not None else 0)
        if t.numel() and int(t.max()) >= n:
            n = int(t.max()) + 1
        cm = torch.bincount(t * n + p, minlength=n * n).reshape(n, n)
        if self.cm is not None and self.cm.shape[0] < n:
            cm[: self.cm.shape[0], : self.cm.shape[0]] += self.cm.to(cm.device)
        elif self.cm is not None:
            cm = cm + self.cm.to(cm.device)
        self.cm = cm

    def _matrix(self) -> Tensor | None:
        return None if self.cm is None else self.cm.double().cpu()


class ForegroundMetric(ConfusionMetric):
    """A confusion metric that sets the background class `bkg_idx` apart."""

    def __init__(self, bkg_idx: int = 0, ignore_index: int | None = None) -> None:
        self.bkg_idx = bkg_idx
        super().__init__(ignore_index)

    def _foreground(self) -> tuple[Tensor, Tensor] | None:
        """(confusion matrix, mask of the foreground classes), or None before any batch."""
        cm = self._matrix()
        if cm is None:
            return None
        fg = torch.ones(cm.shape[0], dtype=torch.bool)
        fg[self.bkg_idx] = False
        return cm, fg


class ForegroundAccuracy(ForegroundMetric):
    """Accuracy over the pixels whose target is not the background `bkg_idx` (fastai's foreground_acc)."""

    name = "foreground_acc"

    @property
    def value(self) -> float | None:
        if (found := self._foreground()) is None:
            return None
        cm, fg = found
        total = cm[fg].sum()
        return float(cm.diag()[fg].sum() / total) if total > 0 else None


class Dice(ForegroundMetric):
    """Dice of foreground against background over the whole set: 2|P∩T| / (|P| + |T|), where P and T
    are the pixels predicted and labelled as any class but `bkg_idx` (fastai's Dice for two classes).
    None when neither predictions nor targets have foreground."""

    name = "dice"

    @property
    def value(self) -> float | None:
        if (found := self._foreground()) is None:
            return None
        cm, fg = found
        inter, pred_fg, targ_fg = cm[fg][:, fg].sum(), cm[:, fg].sum(), cm[fg].sum()
        return float(2 * inter / (pred_fg + targ_fg)) if pred_fg + targ_fg > 0 else None


class DiceMulti(ConfusionMetric):
    """Mean over classes of each class's Dice (fastai's DiceMulti), background included; classes
    absent from both predictions and targets are skipped. Equals sklearn's macro F1 over pixels."""

    name = "dice_multi"

    @property
    def value(self) -> float | None:
        cm = self._matrix()
        if cm is None:
            return None
        denom = cm.sum(0) + cm.sum(1)
        seen = denom > 0
        return float((2 * cm.diag()[seen] / denom[seen]).mean()) if seen.any() else None


class MeanIoU(ConfusionMetric):
    """Mean over classes of intersection over union; classes absent from both predictions and
    targets are skipped (sklearn's macro jaccard_score over pixels)."""

    name = "mean_iou"

    @property
    def value(self) -> float | None:
        cm = self._matrix()
        if cm is None:
            return None
        union = cm.sum(0) + cm.sum(1) - cm.diag()
        seen = union > 0
        return float((cm.diag()[seen] / union[seen]).mean()) if seen.any() else None


class BCEMaskLoss(nn.Module):
    """Binary cross-entropy with logits of one output map (B, 1, H, W) against 0/1 masks (B, H, W)."""

    def __init__(self, reduction: str = "mean", pos_weight: float | None = None) -> None:
        super().__init__()
        self.reduction, self.pos_weight = reduction, pos_weight

    def forward(self, pred: Tensor, targ: Tensor) -> Tensor:
        if pred.ndim == 4 and pred.shape[1] != 1:
            raise ConfigError(
                f"binary segmentation needs one output map, got {pred.shape[1]}; graft the unet head with n_out=1 "
                "or use the 'vision/segmentation' task (cross-entropy) for several classes."
            )
        logits = pred[:, 0] if targ.ndim == pred.ndim - 1 else pred
        weight = None if self.pos_weight is None else torch.tensor(self.pos_weight, device=pred.device)
        return F.binary_cross_entropy_with_logits(logits, targ.to(logits.dtype), pos_weight=weight,
                                                  reduction=self.reduction)


class SegmentationTask(Task):
    """Per-pixel classes: cross-entropy over the class maps, softmax, argmax; foreground accuracy and
    per-class Dice. Works on batches (B, C, H, W) and on single items (C, H, W)."""

    name = "vision/segmentation"
    default_head = "vision/unet"

    def loss_func(self) -> nn.Module:
        return nn.CrossEntropyLoss()

    def metrics(self) -> list[Any]:
        return [ForegroundAccuracy(), DiceMulti()]

    def activation(self, output: Tensor) -> Tensor:
        return output.softmax(dim=-3)

    def decode(self, probs: Tensor) -> Tensor:
        return probs.argmax(dim=-3)

    def decode_labels(self, decoded: Tensor, vocab: Sequence[str] | None) -> Any:
        """The class-index mask itself (index `vocab` with it to name the pixels)."""
        return decoded


class BinarySegmentationTask(SegmentationTask):
    """One output map: binary cross-entropy, sigmoid, threshold at `thresh`; Dice and foreground accuracy."""

    name = "vision/binary_segmentation"

    def __init__(self, thresh: float = 0.5) -> None:
        self.thresh = thresh

    def loss_func(self) -> nn.Module:
        return BCEMaskLoss()

    def metrics(self) -> list[Any]:
        return [Dice(), ForegroundAccuracy()]

    def activation(self, output: Tensor) -> Tensor:
        return output.sigmoid()

    def decode(self, probs: Tensor) -> Tensor:
        return (probs.select(-3, 0) > self.thresh).long()
