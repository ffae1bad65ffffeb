"""LabelSmoothingCrossEntropy: fastai's label-smoothed cross-entropy, also for soft (mixed) targets."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from graftzoo.errors import ConfigError

__all__ = ["LabelSmoothingCrossEntropy"]


class LabelSmoothingCrossEntropy(nn.Module):
    """`eps/c * sum_k -log p_k + (1 - eps) * nll(log p, target)`, fastai's formula.

    `output` is (N, C, ...) logits. `target` holds class indices (N, ...), or class
    probabilities (N, C, ...) such as MixUp/CutMix produce; then the nll part is
    `-sum_k t_k log p_k` (weighted by `weight[k]`). `reduction` is 'mean', 'sum' or 'none'.
    Predictions are activated with softmax and decoded with argmax (`activation`, `decodes`).
    """

    y_int = True

    def __init__(self, eps: float = 0.1, weight: Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__()
        if not 0.0 <= eps < 1.0:
            raise ConfigError(f"LabelSmoothingCrossEntropy: eps must be in [0, 1), got {eps}.")
        if reduction not in ("mean", "sum", "none"):
            raise ConfigError(f"LabelSmoothingCrossEntropy: reduction must be 'mean', 'sum' or 'none', got {reduction!r}.")
        self.eps, self.reduction = eps, reduction
        self.weight: Tensor | None
        self.register_buffer("weight", weight)

    def forward(self, output: Tensor, target: Tensor) -> Tensor:
        c = output.shape[1]
        log_preds = F.log_softmax(output, dim=1)
        smooth = -log_preds.sum(dim=1)
        if target.is_floating_point() and target.shape == output.shape:
            w = 1.0 if self.weight is None else self.weight.view(1, c, *([1] * (output.ndim - 2)))
            nll = -(target * log_preds * w).sum(dim=1)
            return self._reduce(smooth) * self.eps / c + (1 - self.eps) * self._reduce(nll)
        nll = F.nll_loss(log_preds, target.long(), weight=self.weight, reduction=self.reduction)
        return self._reduce(smooth) * self.eps / c + (1 - self.eps) * nll

    def _reduce(self, loss: Tensor) -> Tensor:
        if self.reduction == "mean":
            return loss.mean()
        return loss.sum() if self.reduction == "sum" else loss

    def activation(self, out: Tensor) -> Tensor:
        """Softmax over the class dim."""
        return torch.softmax(out, dim=-1)

    def decodes(self, out: Tensor) -> Tensor:
        """The most likely class."""
        return out.argmax(dim=-1)

    def extra_repr(self) -> str:
        return f"eps={self.eps}, reduction={self.reduction!r}"
