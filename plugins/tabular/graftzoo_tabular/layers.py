"""The few small layers fastai's TabularModel is made of: LinBnDrop blocks and a sigmoid range.

A table's model is so small that at batch 64 the Python of `nn.BatchNorm1d.forward` and of empty
dropouts costs about as much as their kernels; `LinBnDrop` and `batch_norm_forward` skip it for
the plain case (same ops, same results, same state-dict keys) and leave every other case, hooks
included, to the modules themselves.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.modules import module as _module


def batch_norm(n_features: int) -> nn.BatchNorm1d:
    """fastai's BatchNorm init: weight 1, bias 1e-3."""
    bn = nn.BatchNorm1d(n_features)
    with torch.no_grad():
        bn.weight.fill_(1.0)
        bn.bias.fill_(1e-3)
    return bn


def hooked(m: nn.Module) -> bool:
    """Whether calling `m` would run hooks (its own or global ones) or JIT tracing: then it must be called."""
    return bool(
        m._forward_hooks or m._forward_pre_hooks or m._backward_hooks or m._backward_pre_hooks
        or _module._global_forward_hooks or _module._global_forward_pre_hooks
        or _module._global_backward_hooks or _module._global_backward_pre_hooks
        or torch._C._get_tracing_state()
    )


def batch_norm_forward(bn: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """`bn(x)`; for a plain `nn.BatchNorm1d` (running statistics, a momentum, no hooks) over (B, C)
    rows this is one `torch.batch_norm` call, as nn.BatchNorm1d.forward would make it."""
    if (
        type(bn) is not nn.BatchNorm1d or x.dim() != 2 or not bn.track_running_stats or bn.momentum is None
        or bn.running_mean is None or bn.running_var is None or bn.num_batches_tracked is None or hooked(bn)
    ):
        return bn(x)
    if bn.training:
        if x.shape[0] < 2:
            return bn(x)  # torch's own error: one value per channel
        bn.num_batches_tracked.add_(1)
    return torch.batch_norm(
        x, bn.weight, bn.bias, bn.running_mean, bn.running_var, bn.training, float(bn.momentum), bn.eps,
        torch.backends.cudnn.enabled,
    )


def skippable(m: nn.Module) -> bool:
    """A Dropout of p=0 (nothing to drop) with no hooks: an identity that need not be called."""
    return type(m) is nn.Dropout and m.p == 0 and not hooked(m)


class LinBnDrop(nn.Sequential):
    """fastai's LinBnDrop: Linear (no bias under BatchNorm), optional ReLU, BatchNorm and Dropout, in a
    Sequential (state-dict keys `0.weight`, `2.running_mean`, ... as fastai's); BatchNorm runs through
    `batch_norm_forward` and empty dropouts are skipped."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for m in self._modules.values():
            if type(m) is nn.BatchNorm1d:
                x = batch_norm_forward(m, x)
            elif not skippable(m):
                x = m(x)
        return x


def lin_bn_drop(n_in: int, n_out: int, bn: bool = True, p: float = 0.0, act: bool = False, lin_first: bool = False) -> LinBnDrop:
    """fastai's LinBnDrop: Linear (no bias under BatchNorm), optional ReLU, BatchNorm and Dropout,
    with the Linear first (`lin_first`) or last."""
    norm: list[nn.Module] = [batch_norm(n_out if lin_first else n_in)] if bn else []
    if p:
        norm.append(nn.Dropout(p))
    lin: list[nn.Module] = [nn.Linear(n_in, n_out, bias=not bn)]
    if act:
        lin.append(nn.ReLU(inplace=True))
    return LinBnDrop(*(lin + norm if lin_first else norm + lin))


class SigmoidRange(nn.Module):
    """Squash outputs into (low, high) with a sigmoid."""

    def __init__(self, low: float, high: float) -> None:
        super().__init__()
        self.low, self.high = float(low), float(high)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(x) * (self.high - self.low) + self.low

    def extra_repr(self) -> str:
        return f"low={self.low}, high={self.high}"
