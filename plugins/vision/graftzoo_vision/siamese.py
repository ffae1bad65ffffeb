"""The `siamese` head: one encoder applied to two images, features concatenated, then classified."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from graftzoo.body import Body
from graftzoo.head import Head
from graftzoo_vision.classify_head import create_head


class SiameseHead(Head):
    """Seed 001's Siamese model: `head(cat([body(x1), body(x2)], dim=1))` over `nf * 2` features."""

    n_inputs = 2

    def __init__(self, nf: int, n_out: int, pool: bool = True, **kwargs: Any) -> None:
        super().__init__()
        self.layers = create_head(nf * 2, n_out, pool=pool, **kwargs)

    def graft_forward(self, body: nn.Module, *inputs: torch.Tensor) -> torch.Tensor:
        first, second = inputs
        return self(torch.cat([body(first), body(second)], dim=1))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.layers(features)

    def split(self, body: nn.Module) -> list[list[nn.Parameter]]:
        """Two groups, as seed 001's `siamese_splitter`: the whole encoder, then the head."""
        return [list(body.parameters()), list(self.parameters())]


def siamese_head(body: Body, n_out: int = 2, **kwargs: Any) -> SiameseHead:
    """Registered factory: size the head from the body's features (doubled by the pair)."""
    return SiameseHead(body.num_features, n_out, pool=not body.pooled, **kwargs)
