"""The `tabular/linear` head: fastai's TabularModel output layer, optionally squashed into y_range."""

from __future__ import annotations

from collections.abc import Sequence
import torch
from torch import nn

from graftzoo.head import Head
from graftzoo_tabular.errors import ConfigError
from graftzoo_tabular.layers import SigmoidRange, lin_bn_drop


class TabularLinearHead(Head):
    """Linear(num_features, n_out) (BatchNorm after it with `bn_final`), then SigmoidRange(*y_range)."""

    def __init__(self, n_features: int, n_out: int, y_range: Sequence[float] | None = None, bn_final: bool = False) -> None:
        super().__init__()
        self.out = lin_bn_drop(n_features, n_out, bn=bn_final, lin_first=True)
        if y_range is not None and (len(y_range) != 2 or not float(y_range[0]) < float(y_range[1])):
            raise ConfigError(f"y_range must be [low, high] with low < high, got {y_range!r}")
        self.y_range = SigmoidRange(*y_range) if y_range is not None else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.out(x)
        return self.y_range(x) if self.y_range is not None else x


def linear_head(body: nn.Module, n_out: int, y_range: Sequence[float] | None = None, bn_final: bool = False) -> TabularLinearHead:
    """Registered head factory `(body, n_out, **kwargs)`."""
    return TabularLinearHead(int(getattr(body, "num_features")), n_out, y_range=y_range, bn_final=bn_final)
