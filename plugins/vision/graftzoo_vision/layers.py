"""Generic fastai-style layers: pooling, conv/linear blocks, residual, attention and upsampling layers.

They follow fastai's `fastai.layers` in behaviour (layer order, defaults, initialisation), but name
their children (`conv`, `norm`, `act`, ...) instead of numbering them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from enum import Enum
from typing import Any

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm, weight_norm

from graftzoo.errors import ConfigError

ActCls = Callable[..., nn.Module] | None
InitFn = Callable[[torch.Tensor], object]

_NORM_TYPES = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.InstanceNorm1d, nn.InstanceNorm2d,
               nn.InstanceNorm3d, nn.LayerNorm, nn.GroupNorm)
_KAIMING_ACTS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU)


class NormType(Enum):
    """Normalisation of a `ConvLayer`; the `...Zero` kinds start with weight 0 (for residual branches)."""

    Batch = "batch"
    BatchZero = "batch_zero"
    Weight = "weight"
    Spectral = "spectral"
    Instance = "instance"
    InstanceZero = "instance_zero"


def _norm(prefix: str, nf: int, ndim: int, zero: bool, **kwargs: Any) -> nn.Module:
    if not 1 <= ndim <= 3:
        raise ValueError(f"ndim must be 1, 2 or 3, got {ndim}")
    norm = getattr(nn, f"{prefix}{ndim}d")(nf, **kwargs)
    if norm.affine:
        with torch.no_grad():
            norm.bias.fill_(1e-3)
            norm.weight.fill_(0.0 if zero else 1.0)
    return norm


def batch_norm(nf: int, ndim: int = 2, zero: bool = False, **kwargs: Any) -> nn.Module:
    """`BatchNorm{ndim}d` with bias 1e-3 and weight 1 (0 if `zero`), like fastai's `BatchNorm`."""
    return _norm("BatchNorm", nf, ndim, zero, **kwargs)


def instance_norm(nf: int, ndim: int = 2, zero: bool = False, affine: bool = True, **kwargs: Any) -> nn.Module:
    """Affine `InstanceNorm{ndim}d` initialised like `batch_norm`."""
    return _norm("InstanceNorm", nf, ndim, zero, affine=affine, **kwargs)


def avg_pool(ks: int = 2, stride: int | None = None, padding: int = 0, ndim: int = 2,
             ceil_mode: bool = False) -> nn.Module:
    """`AvgPool{ndim}d` layer."""
    return getattr(nn, f"AvgPool{ndim}d")(ks, stride=stride, padding=padding, ceil_mode=ceil_mode)


def max_pool(ks: int = 2, stride: int | None = None, padding: int = 0, ndim: int = 2,
             ceil_mode: bool = False) -> nn.Module:
    """`MaxPool{ndim}d` layer."""
    return getattr(nn, f"MaxPool{ndim}d")(ks, stride=stride, padding=padding, ceil_mode=ceil_mode)


def init_linear(m: nn.Module, act: nn.Module | None = None, init: InitFn | str | None = "auto",
                bias_std: float | None = 0.01) -> None:
    """Init `m`: bias ~ N(0, `bias_std`) (zeros if 0); weight with `init`.

    `init="auto"` uses `kaiming_uniform_` after ReLU-like activations and leaves the
    PyTorch default otherwise (fastai's `__default_init__` rule).
    """
    bias = getattr(m, "bias", None)
    with torch.no_grad():
        if bias is not None and bias_std is not None:
            if bias_std != 0:
                nn.init.normal_(bias, 0.0, bias_std)
            else:
                bias.zero_()
    if init == "auto":
        init = nn.init.kaiming_uniform_ if isinstance(act, _KAIMING_ACTS) else None
    elif isinstance(init, str):
        raise ConfigError(f"init must be 'auto', a function (such as nn.init.kaiming_normal_) or None, got {init!r}")
    if init is not None:
        init(m.get_parameter("weight"))


def init_cnn(m: nn.Module) -> None:
    """fastai's CNN init: every bias to 0, kaiming-normal weights for conv and linear layers."""
    bias = getattr(m, "bias", None)
    if isinstance(bias, torch.Tensor):
        nn.init.constant_(bias, 0)
    if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)) and not parametrize.is_parametrized(m):
        nn.init.kaiming_normal_(m.weight)
    for child in m.children():
        init_cnn(child)


def apply_init(m: nn.Module, init: InitFn | None = nn.init.kaiming_normal_) -> None:
    """Init weights of every non-norm, trainable module in `m` with `init` and zero their biases."""
    for module in m.modules():
        params = list(module.parameters())
        if isinstance(module, _NORM_TYPES) or not params or not params[0].requires_grad:
            continue
        weight = getattr(module, "weight", None)
        if init is not None and isinstance(weight, nn.Parameter):
            init(weight)
        bias = getattr(module, "bias", None)
        if isinstance(bias, nn.Parameter):
            with torch.no_grad():
                bias.zero_()


class AdaptiveConcatPool2d(nn.Module):
    """Concatenation of adaptive max and average pooling (max first), doubling the channels."""

    def __init__(self, size: int | tuple[int, int] | None = None):
        super().__init__()
        self.size = size or 1
        self.ap = nn.AdaptiveAvgPool2d(self.size)
        self.mp = nn.AdaptiveMaxPool2d(self.size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.mp(x), self.ap(x)], dim=1)


class SigmoidRange(nn.Module):
    """Sigmoid scaled to the open range (`low`, `high`)."""

    def __init__(self, low: float, high: float):
        super().__init__()
        self.low, self.high = low, high

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(x) * (self.high - self.low) + self.low

    def extra_repr(self) -> str:
        return f"low={self.low}, high={self.high}"


class ConvLayer(nn.Sequential):
    """Conv (`ni` to `nf`) followed by norm and activation (children `conv`, `norm`, `act`, `xtra`).

    `bn_1st` puts the norm before the activation. Batch/instance norms drop the conv bias;
    `Weight`/`Spectral` wrap the conv in a parametrization instead of adding a norm layer.
    """

    def __init__(self, ni: int, nf: int, ks: int = 3, stride: int = 1, padding: int | None = None,
                 bias: bool | None = None, ndim: int = 2, norm_type: NormType | None = NormType.Batch,
                 bn_1st: bool = True, act_cls: ActCls = nn.ReLU, transpose: bool = False,
                 init: InitFn | str | None = "auto", xtra: nn.Module | None = None,
                 bias_std: float | None = 0.01, **kwargs: Any):
        if padding is None:
            padding = 0 if transpose else (ks - 1) // 2
        bn = norm_type in (NormType.Batch, NormType.BatchZero)
        inn = norm_type in (NormType.Instance, NormType.InstanceZero)
        if bias is None:
            bias = not (bn or inn)
        conv_cls = getattr(nn, f"Conv{'Transpose' if transpose else ''}{ndim}d")
        conv = conv_cls(ni, nf, kernel_size=ks, bias=bias, stride=stride, padding=padding, **kwargs)
        act = None if act_cls is None else act_cls()
        init_linear(conv, act, init=init, bias_std=bias_std)
        if norm_type == NormType.Weight:
            conv = weight_norm(conv)
        elif norm_type == NormType.Spectral:
            conv = spectral_norm(conv)
        zero = norm_type in (NormType.BatchZero, NormType.InstanceZero)
        norm = batch_norm(nf, ndim, zero) if bn else instance_norm(nf, ndim, zero) if inn else None
        ordered = [("norm", norm), ("act", act)] if bn_1st else [("act", act), ("norm", norm)]
        layers = [("conv", conv)] + [(name, m) for name, m in ordered if m is not None]
        if xtra is not None:
            layers.append(("xtra", xtra))
        super().__init__(OrderedDict(layers))


class LinBnDrop(nn.Sequential):
    """BatchNorm1d, Dropout and Linear (+ activation); `lin_first` puts Linear (+ act) first.

    Children are named `bn`, `drop`, `lin`, `act`; the Linear has no bias when followed or preceded by BN.
    """

    def __init__(self, n_in: int, n_out: int, bn: bool = True, p: float = 0.0,
                 act: nn.Module | None = None, lin_first: bool = False):
        norm: list[tuple[str, nn.Module]] = [("bn", batch_norm(n_out if lin_first else n_in, ndim=1))] if bn else []
        drop: list[tuple[str, nn.Module]] = [("drop", nn.Dropout(p))] if p != 0 else []
        lin: list[tuple[str, nn.Module]] = [("lin", nn.Linear(n_in, n_out, bias=not bn))]
        if act is not None:
            lin.append(("act", act))
        layers = lin + norm + drop if lin_first else norm + drop + lin
        super().__init__(OrderedDict(layers))


class ResBlock(nn.Module):
    """fastai's residual block: `act(convpath(x) + idpath(x))`.

    `expansion=1` gives two 3x3 convs (basic block), otherwise a 1x1-3x3-1x1 bottleneck with
    `ni*expansion` in and `nf*expansion` out channels. The last conv's norm starts at zero
    (BatchZero). The shortcut (`idpath`) is `pool` (when `stride` != 1) and a 1x1 ConvLayer
    (when channels change), pool first if `pool_first`.
    """

    def __init__(self, expansion: int, ni: int, nf: int, stride: int = 1, groups: int = 1,
                 nh1: int | None = None, nh2: int | None = None, dw: bool = False, g2: int = 1,
                 norm_type: NormType | None = NormType.Batch, act_cls: ActCls = nn.ReLU, ndim: int = 2,
                 ks: int = 3, pool: Callable[..., nn.Module] = avg_pool, pool_first: bool = True, **kwargs: Any):
        super().__init__()
        zero_norms: dict[NormType | None, NormType | None] = {NormType.Batch: NormType.BatchZero, NormType.Instance: NormType.InstanceZero}
        norm2 = zero_norms.get(norm_type, norm_type)
        nh2 = nf if nh2 is None else nh2
        nh1 = nh2 if nh1 is None else nh1
        nf, ni = nf * expansion, ni * expansion
        k0 = dict(norm_type=norm_type, act_cls=act_cls, ndim=ndim, **kwargs)
        k1 = dict(norm_type=norm2, act_cls=None, ndim=ndim, **kwargs)
        if expansion == 1:
            convs = [ConvLayer(ni, nh2, ks, stride=stride, groups=ni if dw else groups, **k0),
                     ConvLayer(nh2, nf, ks, groups=g2, **k1)]
        else:
            convs = [ConvLayer(ni, nh1, 1, **k0),
                     ConvLayer(nh1, nh2, ks, stride=stride, groups=nh1 if dw else groups, **k0),
                     ConvLayer(nh2, nf, 1, groups=g2, **k1)]
        self.convpath = nn.Sequential(OrderedDict((f"conv_{i}", c) for i, c in enumerate(convs)))
        idpath: list[tuple[str, nn.Module]] = []
        if ni != nf:
            idpath.append(("conv", ConvLayer(ni, nf, 1, act_cls=None, ndim=ndim, **kwargs)))
        if stride != 1:
            idpath.insert(0 if pool_first else len(idpath), ("pool", pool(stride, ndim=ndim, ceil_mode=True)))
        self.idpath = nn.Sequential(OrderedDict(idpath))
        self.act: nn.Module
        if act_cls is None:
            self.act = nn.Identity()
        else:
            self.act = act_cls(inplace=True) if act_cls is nn.ReLU else act_cls()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.convpath(x) + self.idpath(x))


class SelfAttention(nn.Module):
    """SAGAN self-attention over the spatial positions of `n_channels` feature maps.

    Query/key/value are spectral-normed 1x1 convs; `gamma` starts at 0 so the layer begins as identity.
    """

    def __init__(self, n_channels: int):
        super().__init__()
        self.query = self._conv(n_channels, n_channels // 8)
        self.key = self._conv(n_channels, n_channels // 8)
        self.value = self._conv(n_channels, n_channels)
        self.gamma = nn.Parameter(torch.tensor([0.0]))

    @staticmethod
    def _conv(n_in: int, n_out: int) -> ConvLayer:
        return ConvLayer(n_in, n_out, ks=1, ndim=1, norm_type=NormType.Spectral, act_cls=None, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.size()
        x = x.reshape(*size[:2], -1)
        f, g, h = self.query(x), self.key(x), self.value(x)
        beta = torch.softmax(torch.bmm(f.transpose(1, 2), g), dim=1)
        o = self.gamma * torch.bmm(h, beta) + x
        return o.view(*size).contiguous()


def icnr_init(x: torch.Tensor, scale: int = 2, init: InitFn = nn.init.kaiming_normal_) -> torch.Tensor:
    """ICNR weights shaped like `x` (out, in, h, w): each group of `scale**2` consecutive output
    channels (the sub-pixels `nn.PixelShuffle` merges into one channel) shares one kernel."""
    n_out, n_in, h, w = x.shape
    k = x.new_zeros([n_out // scale**2, n_in, h, w])
    init(k)
    return k.repeat_interleave(scale**2, dim=0)


class PixelShuffle_ICNR(nn.Sequential):  # noqa: N801 - fastai's name
    """Upsample by `scale` from `ni` to `nf` (default `ni`) channels: 1x1 ConvLayer with ICNR init,
    then `nn.PixelShuffle`; `blur` adds replication pad + 2x2 average pool against checkerboard
    artifacts. Children: `conv`, `shuffle` (and `pad`, `blur`)."""

    def __init__(self, ni: int, nf: int | None = None, scale: int = 2, blur: bool = False,
                 norm_type: NormType | None = NormType.Weight, act_cls: ActCls = nn.ReLU):
        nf = ni if nf is None else nf
        conv = ConvLayer(ni, nf * scale**2, ks=1, norm_type=norm_type, act_cls=act_cls, bias_std=0)
        inner = conv.get_submodule("conv")
        current = inner.weight  # a Parameter, or the tensor a parametrization computes
        assert isinstance(current, torch.Tensor)
        weight = icnr_init(current.detach(), scale=scale)
        with torch.no_grad():
            if parametrize.is_parametrized(inner, "weight"):
                inner.weight = weight  # the parametrization's right_inverse sets g and v
            else:
                current.copy_(weight)
        layers = [("conv", conv), ("shuffle", nn.PixelShuffle(scale))]
        if blur:
            layers += [("pad", nn.ReplicationPad2d((1, 0, 1, 0))), ("blur", nn.AvgPool2d(2, stride=1))]
        super().__init__(OrderedDict(layers))
