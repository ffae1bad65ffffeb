"""Save a grid of images with their titles as a PNG in the plot folder (no pyplot state, works
headless; shown inline in notebooks)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import torch


def default_figure_path(name: str) -> Path:
    """`<plot folder>/<name>` (see `graftzoo.learner.plot_folder`); the folder is made when saving."""
    from graftzoo.learner.plot_folder import plot_path

    return plot_path(None, name)


def save_batch_grid(images: torch.Tensor, titles: Sequence[str], path: str | Path | None = None) -> Path:
    """Images (N, C, H, W) in [0, 1] in a square-ish grid, each titled; returns the PNG's path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # imported when drawing: predict stays light
    from matplotlib.figure import Figure

    from graftzoo.learner.plotting import save_figure

    n = len(images)
    cols = max(1, math.ceil(math.sqrt(n)))
    rows = max(1, math.ceil(n / cols))

    fig = Figure(figsize=(2.2 * cols, 2.4 * rows))
    FigureCanvasAgg(fig)
    for i in range(n):
        ax = fig.add_subplot(rows, cols, i + 1)
        img = images[i].float().permute(1, 2, 0).numpy()
        if img.shape[-1] == 1:
            ax.imshow(img[..., 0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        else:
            ax.imshow(img[..., :3], interpolation="nearest")
        ax.set_title(str(titles[i]), fontsize=9)
        ax.axis("off")
    return save_figure(fig, path, "show_batch.png", dpi=100)
