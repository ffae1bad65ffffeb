"""The language-model task: next-token cross-entropy over every position, accuracy, perplexity."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from graftzoo.metrics import Metric, accuracy
from graftzoo.task import Task


class CrossEntropyLossFlat(nn.Module):
    """Cross-entropy over (batch, seq, vocab) logits and (batch, seq) targets, flattened (fastai's)."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = reduction

    def forward(self, pred: Tensor, targ: Tensor) -> Tensor:
        loss = F.cross_entropy(pred.reshape(-1, pred.size(-1)).float(), targ.reshape(-1), reduction=self.reduction)
        return loss.view(targ.shape) if self.reduction == "none" else loss


class Perplexity(Metric):
    """exp of the mean next-token cross-entropy over the whole set."""

    name = "perplexity"
    sum_states = ("total", "count")  # under DDP: summed over ranks, so perplexity is over the whole set

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.total: Tensor | float = 0.0
        self.count = 0

    def accumulate(self, pred: Tensor, targ: Tensor) -> None:
        loss = F.cross_entropy(pred.reshape(-1, pred.size(-1)).float(), targ.reshape(-1), reduction="sum")
        self.total = self.total + loss.detach()
        self.count += targ.numel()

    @property
    def value(self) -> float | None:
        return math.exp(float(self.total) / self.count) if self.count else None


class LanguageModelTask(Task):
    """Predict the next token at every position."""

    name = "text/language_model"
    default_head = "text/lm"

    def loss_func(self) -> nn.Module:
        return CrossEntropyLossFlat()

    def metrics(self) -> list[Any]:
        return [accuracy, Perplexity()]

    def activation(self, output: Tensor) -> Tensor:
        return output.softmax(dim=-1)

    def decode(self, probs: Tensor) -> Tensor:
        return probs.argmax(dim=-1)

    def decode_labels(self, decoded: Tensor, vocab: Sequence[str] | None) -> Any:
        ids = decoded.reshape(-1).tolist()
        return ids if vocab is None else [vocab[i] for i in ids]


__all__ = ["CrossEntropyLossFlat", "LanguageModelTask", "Perplexity"]
