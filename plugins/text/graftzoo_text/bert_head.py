"""A pooled classification head for transformer bodies: pool the tokens, then BatchNorm/Dropout/Linear blocks."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

from graftzoo.body import Body
from graftzoo.errors import ConfigError
from graftzoo.head import Head

POOLINGS = ("mean", "cls")


class PooledHead(Head):
    """Pools hidden states (B, L, nf) over the non-pad tokens (`mean`) or takes the first token (`cls`),
    then `lin_ftrs` hidden sizes to `n_out`, each block BatchNorm1d (the first only if `first_bn`),
    Dropout, Linear, ReLU except after the last (fastai's LinBnDrop order)."""

    def __init__(self, nf: int, n_out: int, *, pad_idx: int, pooling: str = "mean",
                 lin_ftrs: Sequence[int] = (), ps: float | Sequence[float] = 0.1, first_bn: bool = True) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ConfigError(f"pooling must be one of {list(POOLINGS)}, got {pooling!r}")
        sizes = [nf, *lin_ftrs, n_out]
        n_lin = len(sizes) - 1
        dropouts = [float(ps)] * n_lin if isinstance(ps, (int, float)) else [float(p) for p in ps]
        if len(dropouts) != n_lin:
            raise ConfigError(f"ps has {len(dropouts)} values for {n_lin} linear layers (lin_ftrs {list(lin_ftrs)} then n_out)")
        self.pad_idx, self.pooling = pad_idx, pooling
        layers: list[tuple[str, nn.Module]] = []
        for i, (ni, no, p) in enumerate(zip(sizes[:-1], sizes[1:], dropouts)):
            if first_bn or i > 0:
                layers.append((f"bn_{i}", nn.BatchNorm1d(ni)))
            layers += [(f"drop_{i}", nn.Dropout(p)), (f"lin_{i}", nn.Linear(ni, no))]
            if i < n_lin - 1:
                layers.append((f"act_{i}", nn.ReLU(inplace=True)))
        self.layers = nn.Sequential(OrderedDict(layers))

    def graft_forward(self, body: nn.Module, *inputs: torch.Tensor) -> torch.Tensor:
        (ids,) = inputs
        return self(self.pool(body(ids), ids != self.pad_idx))

    def pool(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, L, nf) hidden states → (B, nf): the mean over `mask`ed tokens, or the first token."""
        if self.pooling == "cls":
            return hidden[:, 0]
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.layers(pooled)


def pooled_classify_head(body: Body, n_out: int, pooling: str = "mean", lin_ftrs: Sequence[int] = (),
                         ps: float | Sequence[float] = 0.1, first_bn: bool = True) -> PooledHead:
    """The `text/pooled_classify` head factory: sits on any token body (its inputs give `pad_idx`)
    whose output is (B, L, num_features) hidden states."""
    pad_idx = body.inputs.params.get("pad_idx")
    if not isinstance(pad_idx, int) or isinstance(pad_idx, bool):
        raise ConfigError(
            f"text/pooled_classify pools token states and needs a token body (such as text/minilm_l6); "
            f"{body.arch} does not say which id pads its inputs"
        )
    return PooledHead(body.num_features, n_out, pad_idx=pad_idx, pooling=pooling, lin_ftrs=lin_ftrs, ps=ps, first_bn=first_bn)
