"""Small layers of fastai's text classifier: LinBnDrop and SigmoidRange."""

from __future__ import annotations

import torch
from torch import nn


class LinBnDrop(nn.Sequential):
    """BatchNorm1d, Dropout(p) (when p > 0) and a bias-free Linear, then `act` (fastai's LinBnDrop)."""

    def __init__(self, n_in: int, n_out: int, p: float = 0.0, act: nn.Module | None = None) -> None:
        layers: list[nn.Module] = [nn.BatchNorm1d(n_in)]
        if p != 0:
            layers.append(nn.Dropout(p))
        layers.append(nn.Linear(n_in, n_out, bias=False))
        if act is not None:
            layers.append(act)
        super().__init__(*layers)


class SigmoidRange(nn.Module):
    """Sigmoid scaled to (low, high)."""

    def __init__(self, low: float, high: float) -> None:
        super().__init__()
        self.low, self.high = low, high

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(x) * (self.high - self.low) + self.low
