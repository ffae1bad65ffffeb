"""Tasks: the loss, the metrics and how predictions are activated and decoded."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import torch
from torch import nn

Metric = Callable[..., Any]


class Task:
    """Base task. Subclasses set `name`, `default_head` and override what differs."""

    name = "core/task"
    default_head: str | None = None
    pipeline_tag: str | None = None  # the Hugging Face Hub task a model card declares, if any

    def loss_func(self) -> nn.Module:
        raise NotImplementedError

    def metrics(self) -> list[Metric]:
        return []

    def activation(self, output: torch.Tensor) -> torch.Tensor:
        return output

    def decode(self, probs: torch.Tensor) -> torch.Tensor:
        return probs

    def decode_labels(self, decoded: torch.Tensor, vocab: Sequence[str] | None) -> Any:
        """Human-readable labels for decoded predictions of ONE item."""
        if vocab is None:
            return decoded.tolist()
        return vocab[int(decoded)] if decoded.dim() == 0 else [vocab[int(i)] for i in decoded]


class ClassificationTask(Task):
    """Single-label classification: cross-entropy, softmax, argmax, accuracy."""

    name = "core/classification"
    pipeline_tag = "image-classification"  # the heads that serve it today are image heads

    def loss_func(self) -> nn.Module:
        return nn.CrossEntropyLoss()

    def metrics(self) -> list[Metric]:
        from graftzoo.metrics import accuracy

        return [accuracy]

    def activation(self, output: torch.Tensor) -> torch.Tensor:
        return output.softmax(dim=-1)

    def decode(self, probs: torch.Tensor) -> torch.Tensor:
        return probs.argmax(dim=-1)


class MultiLabelTask(Task):
    """Multi-label classification: binary cross-entropy per class, sigmoid, threshold."""

    name = "core/multilabel"
    pipeline_tag = "image-classification"

    def __init__(self, thresh: float = 0.5) -> None:
        self.thresh = thresh

    def loss_func(self) -> nn.Module:
        return nn.BCEWithLogitsLoss()

    def metrics(self) -> list[Metric]:
        from graftzoo.metrics import accuracy_multi

        return [accuracy_multi]

    def activation(self, output: torch.Tensor) -> torch.Tensor:
        return output.sigmoid()

    def decode(self, probs: torch.Tensor) -> torch.Tensor:
        return probs > self.thresh

    def decode_labels(self, decoded: torch.Tensor, vocab: Sequence[str] | None) -> Any:
        indices = decoded.nonzero().flatten().tolist()
        return indices if vocab is None else [vocab[i] for i in indices]


class RegressionTask(Task):
    """Regression: mean squared error, outputs used as they are."""

    name = "core/regression"

    def loss_func(self) -> nn.Module:
        return nn.MSELoss()

    def metrics(self) -> list[Metric]:
        from graftzoo.metrics import rmse

        return [rmse]

    def decode_labels(self, decoded: torch.Tensor, vocab: Sequence[str] | None) -> Any:
        """The predicted values as a list of floats (one per output), never vocab entries."""
        return decoded.reshape(-1).tolist()
