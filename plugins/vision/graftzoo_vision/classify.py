"""The `classify` head: fastai's create_head wrapped as a graftable, JSON-configurable Head."""

from __future__ import annotations

from typing import Any

import torch

from graftzoo.body import Body
from graftzoo.head import Head
from graftzoo_vision.classify_head import create_head


class ClassifyHead(Head):
    """Pool (concat max+avg by default), then BatchNorm/Dropout/Linear blocks down to `n_out`."""

    def __init__(self, nf: int, n_out: int, pool: bool = True, **kwargs: Any) -> None:
        super().__init__()
        self.layers = create_head(nf, n_out, pool=pool, **kwargs)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.layers(features)


def classify_head(body: Body, n_out: int, **kwargs: Any) -> ClassifyHead:
    """Registered factory: size the head from the body (pooled bodies get no pooling layer)."""
    return ClassifyHead(body.num_features, n_out, pool=not body.pooled, **kwargs)
