"""`predict`: labels and probabilities for images, with the preprocessing a saved head recorded."""

from __future__ import annotations

from typing import Any

import torch

from graftzoo.artifacts.preprocess import is_single, to_batch


def predict(model: Any, inputs: Any) -> tuple[Any, torch.Tensor]:
    """(decoded labels, probabilities) for `inputs`: paths, PIL images or (C, H, W)/(B, C, H, W) tensors.

    One item gives one label and a 1-D tensor of probabilities; a list or a 4-D tensor gives a
    list of labels and a (B, n_out) tensor. Uses the stats and input size the artifact recorded
    (the body's own for a model that was never saved) and the model's task to decode.
    """
    info = getattr(model, "artifact_info", None) or {}
    config = model.config
    stats = info.get("stats") or _body_stats(model)
    input_size = info.get("input_size") or [config["n_in"], *model.body.spec.input_size[1:]]
    batch = to_batch(inputs, stats=stats, input_size=input_size, n_in=config["n_in"])
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            probs = model.task.activation(model(batch.to(device))).float().cpu()
    finally:
        model.train(was_training)
    vocab = getattr(model, "vocab", None)
    labels = [model.task.decode_labels(model.task.decode(p), vocab) for p in probs]
    return (labels[0], probs[0]) if is_single(inputs) else (labels, probs)


def top_k(probs: torch.Tensor, vocab: list[str] | None, k: int) -> list[tuple[Any, float]]:
    """The `k` most likely (label, probability) pairs of ONE item's probabilities."""
    values, indices = probs.topk(min(k, probs.numel()))
    return [(vocab[i] if vocab else i, float(v)) for v, i in zip(values.tolist(), indices.tolist())]


def _body_stats(model: Any) -> dict[str, list[float]] | None:
    stats = model.body.stats
    return {"mean": list(stats[0]), "std": list(stats[1])} if stats else None
