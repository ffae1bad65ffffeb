"""The two ways a timm model becomes a body: its feature map, or its pooled pre-logits features."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class TimmFeatureMap(nn.Module):
    """`model.forward_features(x)` as a (B, C, H, W) map; channels-last (NHWC) models are permuted."""

    def __init__(self, model: nn.Module, channels_last: bool = False) -> None:
        super().__init__()
        self.model: Any = model  # a timm model: forward_features and forward_head are not nn.Module's
        self.channels_last = channels_last

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.model.forward_features(x)
        return features.permute(0, 3, 1, 2) if self.channels_last else features


class TimmPooled(nn.Module):
    """`model.forward_head(model.forward_features(x), pre_logits=True)`: (B, C) features, for token models."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model: Any = model  # a timm model: forward_features and forward_head are not nn.Module's

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.forward_head(self.model.forward_features(x), pre_logits=True)
