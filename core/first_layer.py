"""Adapting a body's first convolution to a different number of input channels (fastai semantics)."""

from __future__ import annotations

import copy

import torch
from torch import nn

from graftzoo.errors import ConfigError


def first_conv(net: nn.Module) -> tuple[nn.Module, str, nn.Conv2d]:
    """The first Conv2d of `net` in registration order, with its parent and attribute name."""
    for name, module in net.named_modules():
        if isinstance(module, nn.Conv2d):
            parent_name, _, attr = name.rpartition(".")
            return net.get_submodule(parent_name), attr, module
    raise ConfigError("this body has no Conv2d to adapt: n_in can only be changed for convolutional stems")


def adapt_first_conv(net: nn.Module, n_in: int, pretrained: bool) -> None:
    """Replace the first Conv2d by one taking `n_in` channels.

    Pretrained kernels are kept as fastai does: 1 channel sums the RGB kernels, 2 channels take
    the first two scaled by 1.5, more channels keep the three pretrained ones and zero the rest.
    """
    if n_in < 1:
        raise ConfigError(f"n_in must be at least 1, got {n_in}")
    parent, attr, old = first_conv(net)
    if old.in_channels == n_in:
        return
    if old.groups != 1:
        raise ConfigError("cannot change n_in of a grouped first convolution")
    # a copy keeps the conv's class and extras (timm's TF "same" padding, weight standardisation)
    new = copy.deepcopy(old)
    new.in_channels = n_in
    new.weight = nn.Parameter(old.weight.new_empty(old.out_channels, n_in, *old.kernel_size))
    new.reset_parameters()
    if pretrained:
        with torch.no_grad():
            weight = old.weight
            if n_in == 1:
                new.weight.copy_(weight.sum(dim=1, keepdim=True))
            elif n_in == 2:
                new.weight.copy_(weight[:, :2] * 1.5)
            else:
                new.weight[:, : weight.shape[1]].copy_(weight[:, :n_in])
                new.weight[:, weight.shape[1]:].zero_()
            if old.bias is not None and new.bias is not None:  # new is a copy of old: both or neither
                new.bias.copy_(old.bias)
    setattr(parent, attr, new)
