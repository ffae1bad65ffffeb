"""`learn.show_results()` for image classification: validation images titled `target/predicted`
(green when right, red when wrong), saved in the plot folder and shown inline in notebooks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from graftzoo.data_protocol import dls_attr
from graftzoo.learner.plotting import new_figure, save_figure

__all__ = [
    "classification_results_figure", "label_text", "predict_batch", "results_figure", "show_classification_results",
]


def label_text(value: Tensor, vocab: Sequence[str] | None) -> str:
    """A class index as its vocab entry, a multi-hot row as its tags joined by `;`, a float as `0.123`."""
    if value.dim() == 0:
        if value.is_floating_point():
            return f"{float(value):.3g}"
        i = int(value)
        return str(vocab[i]) if vocab is not None and 0 <= i < len(vocab) else str(i)
    binary = bool(((value == 0) | (value == 1)).all())
    multi_hot = not value.is_floating_point() or (vocab is not None and len(value) == len(vocab) and binary)
    if value.dim() == 1 and multi_hot:
        on = [int(i) for i in torch.nonzero(value).flatten()]
        return ";".join(str(vocab[i]) if vocab is not None else str(i) for i in on)
    return ", ".join(f"{float(v):.3g}" for v in value.flatten())


def predict_batch(dls: Any, learn: Any, max_n: int) -> tuple[Tensor, Tensor, Tensor]:
    """(images in [0, 1], targets, decoded predictions) of up to `max_n` items of the first validation batch, on cpu."""
    batch = dls.one_batch(train=False)
    xb, target = tuple(x[:max_n] for x in batch[:-1]), batch[-1][:max_n]
    model = learn.model
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(*(x.to(learn.device) for x in xb)).float()
    finally:
        model.train(was_training)
    preds = learn.decode(learn.activation(out)).cpu()
    return dls.denormalize(xb[0].float()).cpu().clamp(0, 1), target.cpu(), preds


def results_figure(images: Tensor, titles: Sequence[str], correct: Sequence[bool]) -> Any:
    """A square-ish grid of `images` (N, C, H, W) in [0, 1], each titled, green when correct else red."""
    n = len(images)
    cols = max(1, math.ceil(math.sqrt(n)))
    rows = max(1, math.ceil(n / cols))
    fig = new_figure((2.2 * cols, 2.4 * rows))
    for i in range(n):
        ax = fig.add_subplot(rows, cols, i + 1)
        img = images[i].permute(1, 2, 0).numpy()
        if img.shape[-1] == 1:
            ax.imshow(img[..., 0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        else:
            ax.imshow(img[..., :3], interpolation="nearest")
        ax.set_title(titles[i], fontsize=9, color="green" if correct[i] else "red")
        ax.axis("off")
    return fig


def classification_results_figure(dls: Any, learn: Any, max_n: int = 9) -> Any:
    """Up to `max_n` images of the first validation batch, titled `target/predicted` (green when right)."""
    images, targets, preds = predict_batch(dls, learn, max_n)
    vocab = dls_attr(dls, "vocab")
    titles = [f"{label_text(t, vocab)}/{label_text(p, vocab)}" for t, p in zip(targets, preds)]
    correct = [bool(torch.equal(t.to(p.dtype), p)) for t, p in zip(targets, preds)]
    return results_figure(images, titles, correct)


def show_classification_results(dls: Any, learn: Any, path: str | Path | None = None, max_n: int = 9) -> Path:
    """Save `classification_results_figure` as PNG (default `show_results.png` in the plot folder),
    show it inline in notebooks, and return the path."""
    return save_figure(classification_results_figure(dls, learn, max_n), path, "show_results.png", dpi=100)
