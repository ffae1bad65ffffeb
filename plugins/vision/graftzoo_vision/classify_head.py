"""fastai's classification head: (concat) pooling, flatten, then BatchNorm/Dropout/Linear blocks."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from torch import nn

from graftzoo_vision.layers import AdaptiveConcatPool2d, LinBnDrop, SigmoidRange


def _dropouts(ps: float | Sequence[float], n_lin: int) -> list[float]:
    """One dropout per linear layer; a single float `p` gives `[p/2, ..., p/2, p]`."""
    ps = [ps] if isinstance(ps, (int, float)) else list(ps)
    if len(ps) == 1:
        ps = [ps[0] / 2] * (n_lin - 1) + ps
    if len(ps) != n_lin:
        raise ValueError(f"ps has {len(ps)} values for {n_lin} linear layers")
    return ps


def create_head(nf: int, n_out: int, lin_ftrs: Sequence[int] | None = None, ps: float | Sequence[float] = 0.5,
                pool: bool = True, concat_pool: bool = True, first_bn: bool = True, bn_final: bool = False,
                lin_first: bool = False, y_range: tuple[float, float] | None = None) -> nn.Sequential:
    """Head taking the body's `nf` features through `lin_ftrs` hidden sizes to `n_out` outputs.

    Mirrors fastai's `create_head`: with `pool` the input is a (B, nf, H, W) feature map, pooled by
    `AdaptiveConcatPool2d` (which doubles `nf`) or average pooling; `pool=False` takes already pooled
    (B, nf) features (ViT-like bodies) and only flattens. Hidden sizes default to `[512]`; each linear
    block is `LinBnDrop` (BN skipped on the first if not `first_bn`, ReLU except on the last).
    `bn_final` appends BatchNorm1d(momentum=0.01), `y_range` a `SigmoidRange`.

    Children are named: `pool`, `flatten`, then `bn_i`, `drop_i`, `lin_i`, `act_i` for linear block `i`
    (a leading `drop_in` and trailing `lin_out` when `lin_first`), `bn_final`, `y_range`.
    """
    if pool and concat_pool:
        nf *= 2
    sizes = [nf, 512, n_out] if lin_ftrs is None else [nf, *lin_ftrs, n_out]
    n_lin = len(sizes) - 1
    bns = [first_bn] + [True] * (n_lin - 1)
    dropouts = _dropouts(ps, n_lin)
    acts = [nn.ReLU(inplace=True) for _ in range(n_lin - 1)] + [None]
    layers: list[tuple[str, nn.Module]] = []
    if pool:
        layers.append(("pool", AdaptiveConcatPool2d() if concat_pool else nn.AdaptiveAvgPool2d(1)))
    layers.append(("flatten", nn.Flatten()))
    if lin_first:
        # fastai: dropout up front, blocks for all but the last size pair, then a plain Linear
        layers.append(("drop_in", nn.Dropout(dropouts.pop(0))))
    for i, (ni, no, bn, p, act) in enumerate(zip(sizes[:-1], sizes[1:], bns, dropouts, acts)):
        block = LinBnDrop(ni, no, bn=bn, p=p, act=act, lin_first=lin_first)
        layers.extend((f"{name}_{i}", module) for name, module in block.named_children())
    if lin_first:
        layers.append(("lin_out", nn.Linear(sizes[-2], n_out)))
    if bn_final:
        layers.append(("bn_final", nn.BatchNorm1d(sizes[-1], momentum=0.01)))
    if y_range is not None:
        layers.append(("y_range", SigmoidRange(*y_range)))
    return nn.Sequential(OrderedDict(layers))
