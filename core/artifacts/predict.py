"""`predict`: labels and probabilities for images, with the preprocessing a saved head recorded."""

from __future__ import annotations

from typing import Any

import torch

from graftzoo.artifacts.preprocess import is_single, to_batch


def predict(model: Any, inputs: Any) -> tuple[Any, torch.Tensor]:
    """(decoded labels, probabilities) for `inputs`: paths, PIL images or (C, H, W)/(B, C, H, W) tensors.

    One item gives one label and a 1-D tensor of probabilities; a list or a 4-D tensor gives a
    list of labels and a (B, n_out) tensor. Heads that take several images (siamese: a pair) take
    one tuple of images, or a list of such tuples. Uses the stats and input size the artifact
    recorded (the body's own for a model that was never saved) and the model's task to decode.
    """
    info = getattr(model, "artifact_info", None) or {}
    config = model.config
    stats = info.get("stats") or _body_stats(model)
    input_size = info.get("input_size") or [config["n_in"], *model.body.spec.input_size[1:]]
    n_inputs = getattr(model.head, "n_inputs", 1)
    single = is_single(inputs) if n_inputs == 1 else _is_group(inputs, n_inputs)
    groups = [inputs] if n_inputs == 1 else list(zip(*([inputs] if single else inputs)))
    batches = [to_batch(g if n_inputs == 1 else list(g), stats=stats, input_size=input_size, n_in=config["n_in"]) for g in groups]
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            probs = model.task.activation(model(*(b.to(device) for b in batches))).float().cpu()
    finally:
        model.train(was_training)
    vocab = getattr(model, "vocab", None)
    labels = [model.task.decode_labels(model.task.decode(p), vocab) for p in probs]
    return (labels[0], probs[0]) if single else (labels, probs)


def _is_group(inputs: Any, n_inputs: int) -> bool:
    """One tuple of `n_inputs` single images (e.g. one pair for a siamese head)."""
    return isinstance(inputs, tuple) and len(inputs) == n_inputs and all(is_single(x) for x in inputs)


def top_k(probs: torch.Tensor, vocab: list[str] | None, k: int) -> list[tuple[Any, float]]:
    """The `k` most likely (label, probability) pairs of ONE item's probabilities."""
    values, indices = probs.topk(min(k, probs.numel()))
    return [(vocab[i] if vocab else i, float(v)) for v, i in zip(values.tolist(), indices.tolist())]


def _body_stats(model: Any) -> dict[str, list[float]] | None:
    stats = model.body.stats
    return {"mean": list(stats[0]), "std": list(stats[1])} if stats else None
