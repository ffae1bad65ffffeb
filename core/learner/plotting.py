"""A matplotlib figure that never touches pyplot or the global backend (safe headless)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graftzoo.errors import GraftzooError

__all__ = ["new_axes", "save_figure"]


def new_axes() -> tuple[Any, Any]:
    """A fresh (figure, axes) pair drawn with the Agg canvas."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - depends on the environment
        raise GraftzooError("plots need matplotlib: pip install 'graftzoo[plots]'.") from None
    fig = Figure(figsize=(6, 4), dpi=100)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


def save_figure(fig: Any, path: str | Path) -> Path:
    """Save `fig` as PNG at `path` (folders created) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path
