"""fastai's XResNet family ("bag of tricks" ResNet) with named top-level children.

Layout of every model (an `nn.Sequential`)::

    stem_0, stem_1, stem_2   3x3 ConvLayers c_in->32 (stride 2), 32->32, 32->64
    stem_pool                3x3 max pool, stride 2
    stage_0 .. stage_3       ResBlock stages (stride 1, 2, 2, 2; avg-pool shortcut when strided)
    pool, flatten, dropout, fc

so fastai's `cut=-4` (dropping `pool, flatten, dropout, fc`) leaves the body, whose output has
512 (xresnet18/34) or 2048 (xresnet50/101/152) channels at 1/32 of the input resolution.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from torch import nn

from graftzoo_vision.layers import ActCls, ConvLayer, ResBlock, init_cnn, max_pool


class XResNet(nn.Sequential):
    """XResNet with `layers[i]` ResBlocks in stage `i` and block `expansion` (1: basic, 4: bottleneck).

    Weights start as in fastai: kaiming-normal convs and linear, zero biases, and the last norm of
    every residual branch at zero (BatchZero). Extra keyword arguments go to every `ResBlock`
    (fastai's `sa` and `reduction` (SE) block options are not supported).
    """

    def __init__(self, expansion: int, layers: Sequence[int], p: float = 0.0, c_in: int = 3, n_out: int = 1000,
                 stem_szs: Sequence[int] = (32, 32, 64), widen: float = 1.0, act_cls: ActCls = nn.ReLU,
                 ndim: int = 2, ks: int = 3, stride: int = 2, **kwargs: Any):
        if ks % 2 == 0:
            raise ValueError(f"kernel size has to be odd, got {ks}")
        szs = [c_in, *stem_szs]
        children: list[tuple[str, nn.Module]] = [
            (f"stem_{i}", ConvLayer(szs[i], szs[i + 1], ks=ks, stride=stride if i == 0 else 1,
                                    act_cls=act_cls, ndim=ndim))
            for i in range(len(stem_szs))]
        children.append(("stem_pool", max_pool(ks=ks, stride=stride, padding=ks // 2, ndim=ndim)))
        block_szs = [int(o * widen) for o in [64, 128, 256, 512] + [256] * (len(layers) - 4)]
        block_szs = [64 // expansion] + block_szs
        for i, n_blocks in enumerate(layers):
            stage = self._make_stage(expansion, block_szs[i], block_szs[i + 1], n_blocks,
                                     stride=1 if i == 0 else stride, act_cls=act_cls, ndim=ndim, ks=ks, **kwargs)
            children.append((f"stage_{i}", stage))
        children += [
            ("pool", getattr(nn, f"AdaptiveAvgPool{ndim}d")(1)),
            ("flatten", nn.Flatten()),
            ("dropout", nn.Dropout(p)),
            ("fc", nn.Linear(block_szs[-1] * expansion, n_out)),
        ]
        super().__init__(OrderedDict(children))
        self.expansion = expansion
        init_cnn(self)

    @staticmethod
    def _make_stage(expansion: int, ni: int, nf: int, n_blocks: int, stride: int, **kwargs: Any) -> nn.Sequential:
        blocks = [(f"block_{i}", ResBlock(expansion, ni if i == 0 else nf, nf, stride=stride if i == 0 else 1,
                                          **kwargs))
                  for i in range(n_blocks)]
        return nn.Sequential(OrderedDict(blocks))


def _xresnet(expansion: int, layers: Sequence[int], n_out: int, c_in: int, **kwargs: Any) -> XResNet:
    return XResNet(expansion, layers, n_out=n_out, c_in=c_in, **kwargs)


def xresnet18(n_out: int = 1000, c_in: int = 3, **kwargs: Any) -> XResNet:
    """XResNet-18: basic blocks [2, 2, 2, 2]."""
    return _xresnet(1, [2, 2, 2, 2], n_out, c_in, **kwargs)


def xresnet34(n_out: int = 1000, c_in: int = 3, **kwargs: Any) -> XResNet:
    """XResNet-34: basic blocks [3, 4, 6, 3]."""
    return _xresnet(1, [3, 4, 6, 3], n_out, c_in, **kwargs)


def xresnet50(n_out: int = 1000, c_in: int = 3, **kwargs: Any) -> XResNet:
    """XResNet-50: bottleneck blocks [3, 4, 6, 3]."""
    return _xresnet(4, [3, 4, 6, 3], n_out, c_in, **kwargs)


def xresnet101(n_out: int = 1000, c_in: int = 3, **kwargs: Any) -> XResNet:
    """XResNet-101: bottleneck blocks [3, 4, 23, 3]."""
    return _xresnet(4, [3, 4, 23, 3], n_out, c_in, **kwargs)


def xresnet152(n_out: int = 1000, c_in: int = 3, **kwargs: Any) -> XResNet:
    """XResNet-152: bottleneck blocks [3, 8, 36, 3]."""
    return _xresnet(4, [3, 8, 36, 3], n_out, c_in, **kwargs)


def _is_max_pool(m: nn.Module) -> bool:
    return isinstance(m, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d))


def _has_res_block(m: nn.Module) -> bool:
    return any(isinstance(sub, ResBlock) for sub in m.modules())


def xresnet_split(net: nn.Module) -> list[list[nn.Module]]:
    """Parameter groups of an xresnet, as fastai's `_xresnet_split` (`m[0][:3], m[0][3:], m[1:]`).

    Works on the body (`cut=-4`, with or without the child names) and on the whole model:
    group 0 is the stem convs (children before the stem max pool), group 1 the stem pool and the
    residual stages, and - only when `net` still has them - group 2 the remaining head layers.
    Empty groups are dropped, so a body gives two groups.
    """
    children = list(net.children())
    n_stem = next((i for i, m in enumerate(children) if _is_max_pool(m)), None)
    if n_stem is None:
        raise ValueError("xresnet_split: no stem max pool found among the children; is this an xresnet?")
    n_body = max((i + 1 for i, m in enumerate(children) if _has_res_block(m)), default=n_stem + 1)
    groups = [children[:n_stem], children[n_stem:n_body], children[n_body:]]
    return [g for g in groups if g]
