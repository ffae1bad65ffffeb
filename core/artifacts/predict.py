"""`predict`: labels and probabilities for raw items, through the model's preprocessor.

One path for every input kind: the preprocessor (the data's, a loaded head's, or the input kind's
default for the body) turns items into input tensors, the model runs, the task decodes.
"""

from __future__ import annotations

from typing import Any

import torch

from graftzoo.errors import ConfigError


def predict(model: Any, inputs: Any) -> tuple[Any, torch.Tensor]:
    """(decoded labels, probabilities) for `inputs`: one raw item, or a list of them.

    One item gives one label and a 1-D tensor of probabilities; a list gives a list of labels and a
    (B, n_out) tensor. What an item is depends on the input kind (an image path, a PIL image or a
    (C, H, W) tensor for images; a string for text; a dict or DataFrame row for tables). Heads that
    take several items per example (siamese: a pair) take one tuple of items, or a list of tuples.
    """
    from graftzoo.preprocessor import model_preprocessor

    pre = model_preprocessor(model)
    n_inputs = getattr(model.head, "n_inputs", 1)
    if n_inputs == 1:
        single, items = pre.batch_items(inputs)
        tensors = pre.encode(items)
    else:
        single, groups = _groups(pre, inputs, n_inputs)
        tensors = tuple(t for slot in zip(*groups) for t in pre.encode(list(slot)))
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            probs = model.task.activation(model(*(t.to(device) for t in tensors))).float().cpu()
    finally:
        model.train(was_training)
    vocab = getattr(model, "vocab", None)
    labels = [model.task.decode_labels(model.task.decode(p), vocab) for p in probs]
    return (labels[0], probs[0]) if single else (labels, probs)


def _groups(pre: Any, inputs: Any, n_inputs: int) -> tuple[bool, list[tuple[Any, ...]]]:
    """(single, groups of `n_inputs` items): one tuple of items, or a list of such tuples."""
    if isinstance(inputs, tuple) and len(inputs) == n_inputs and all(pre.is_single(x) for x in inputs):
        return True, [inputs]
    if isinstance(inputs, list) and inputs and all(isinstance(g, tuple) and len(g) == n_inputs for g in inputs):
        return False, list(inputs)
    raise ConfigError(f"this head takes {n_inputs} items per example: pass one tuple of {n_inputs} items, or a list of such tuples")


def top_k(probs: torch.Tensor, vocab: list[str] | None, k: int) -> list[tuple[Any, float]]:
    """The `k` most likely (label, probability) pairs of ONE item's probabilities."""
    values, indices = probs.topk(min(k, probs.numel()))
    return [(vocab[i] if vocab else i, float(v)) for v, i in zip(values.tolist(), indices.tolist())]
