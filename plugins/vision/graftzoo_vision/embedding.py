"""`embed`: pooled features of the (trained) body for images, e.g. for retrieval by similarity."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from graftzoo.errors import ConfigError
from graftzoo.preprocessor import model_preprocessor
from graftzoo_vision.image_preprocessor import ImagePreprocessor

POOLS = ("avg", "max", "concat")


def pool_features(features: torch.Tensor, pool: str = "avg") -> torch.Tensor:
    """(B, C, H, W) maps -> (B, C) by average or max pooling, or (B, 2C) max then average ("concat",
    as the heads' AdaptiveConcatPool2d); pooled (B, C) features stay as they are."""
    if pool not in POOLS:
        raise ConfigError(f"pool must be one of {POOLS}, got {pool!r}")
    if features.ndim == 2:
        return features
    avg, top = features.mean(dim=(-2, -1)), features.amax(dim=(-2, -1))
    return {"avg": avg, "max": top, "concat": torch.cat([top, avg], dim=1)}[pool]


def _preprocessor(obj: Any, model: nn.Module, size: int | None) -> ImagePreprocessor:
    """The Learner's data preprocessing, else the saved head's, else the body's; resized to `size` if given."""
    pre = model_preprocessor(model, getattr(obj, "dls", None))
    if not isinstance(pre, ImagePreprocessor):
        raise ConfigError(f"embed takes images; this model's inputs are {pre.kind!r}")
    return pre if size is None else ImagePreprocessor(pre.n_in, pre.stats, [pre.n_in, size, size])


def embed(
    model_or_learner: Any, images: Any, *, bs: int = 64, pool: str = "avg", size: int | None = None
) -> torch.Tensor:
    """Float32 (N, C) embeddings of `images` from the body of a grafted model (or a Learner's).

    `images` are what `predict` takes: paths, PIL images, or (C, H, W) / (N, C, H, W) tensors,
    uint8 or float in [0, 1]. They are resized to `size` (default: the Learner's data size, the
    saved head's input size, else the arch's) and normalized as in training; the body runs in eval
    mode without gradients, `bs` images at a time, and its maps are pooled (`pool`: avg, max, concat).
    """
    model = getattr(model_or_learner, "model", model_or_learner)
    if not hasattr(model, "body") or not hasattr(model, "config"):
        raise ConfigError(
            f"embed needs a model made by graftzoo.graft (or a Learner holding one), got {type(model).__name__}"
        )
    pre = _preprocessor(model_or_learner, model, size)
    (batch,) = pre.encode(pre.batch_items(images)[1])
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    was_training = model.body.training
    model.body.eval()
    try:
        with torch.inference_mode():
            parts = [pool_features(model.body(chunk.to(device)), pool).float().cpu() for chunk in batch.split(bs)]
    finally:
        model.body.train(was_training)
    return torch.cat(parts)
