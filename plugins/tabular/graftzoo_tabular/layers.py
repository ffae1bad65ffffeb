"""The few small layers fastai's TabularModel is made of: LinBnDrop blocks and a sigmoid range."""

from __future__ import annotations

import torch
from torch import nn


def batch_norm(n_features: int) -> nn.BatchNorm1d:
    """fastai's BatchNorm init: weight 1, bias 1e-3."""
    bn = nn.BatchNorm1d(n_features)
    with torch.no_grad():
        bn.weight.fill_(1.0)
        bn.bias.fill_(1e-3)
    return bn


def lin_bn_drop(n_in: int, n_out: int, bn: bool = True, p: float = 0.0, act: bool = False, lin_first: bool = False) -> nn.Sequential:
    """fastai's LinBnDrop: Linear (no bias under BatchNorm), optional ReLU, BatchNorm and Dropout,
    with the Linear first (`lin_first`) or last."""
    norm: list[nn.Module] = [batch_norm(n_out if lin_first else n_in)] if bn else []
    if p:
        norm.append(nn.Dropout(p))
    lin: list[nn.Module] = [nn.Linear(n_in, n_out, bias=not bn)]
    if act:
        lin.append(nn.ReLU(inplace=True))
    return nn.Sequential(*(lin + norm if lin_first else norm + lin))


class SigmoidRange(nn.Module):
    """Squash outputs into (low, high) with a sigmoid."""

    def __init__(self, low: float, high: float) -> None:
        super().__init__()
        self.low, self.high = float(low), float(high)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(x) * (self.high - self.low) + self.low

    def extra_repr(self) -> str:
        return f"low={self.low}, high={self.high}"
