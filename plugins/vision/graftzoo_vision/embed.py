"""`embed`: pooled features of the (trained) body for images, e.g. for retrieval by similarity."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from graftzoo.artifacts.preprocess import to_batch
from graftzoo.errors import ConfigError

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


def _preprocessing(obj: Any, model: nn.Module, size: int | None) -> tuple[Any, list[int] | None]:
    """Normalization stats and input size: the Learner's data, else the saved artifact's, else the body's."""
    dls, info, n_in = getattr(obj, "dls", None), getattr(model, "artifact_info", None) or {}, model.config["n_in"]
    stats = getattr(dls, "stats", None) or info.get("stats") or model.body.stats
    if stats is not None and not isinstance(stats, dict):
        stats = {"mean": list(stats[0]), "std": list(stats[1])}
    dls_size = getattr(dls, "size", None)
    if size is not None:
        return stats, [n_in, size, size]
    if isinstance(dls_size, int):
        return stats, [n_in, dls_size, dls_size]
    if isinstance(dls_size, (tuple, list)):
        return stats, [n_in, *dls_size]
    return stats, info.get("input_size") or [n_in, *model.body.spec.input_size[1:]]


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
    stats, input_size = _preprocessing(model_or_learner, model, size)
    batch = to_batch(images, stats=stats, input_size=input_size, n_in=model.config["n_in"])
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    was_training = model.body.training
    model.body.eval()
    try:
        with torch.inference_mode():
            parts = [pool_features(model.body(chunk.to(device)), pool).float().cpu() for chunk in batch.split(bs)]
    finally:
        model.body.train(was_training)
    return torch.cat(parts)
