"""A matplotlib figure that never touches pyplot or the global backend (safe headless), saved
under the plot folder and shown inline in notebooks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graftzoo.errors import GraftzooError
from graftzoo.learner.inline_display import show_inline
from graftzoo.learner.plot_folder import plot_path

__all__ = ["new_axes", "new_figure", "save_figure"]


def new_figure(figsize: tuple[float, float] = (6, 4), dpi: float = 100) -> Any:
    """A fresh matplotlib Figure drawn with the Agg canvas."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - depends on the environment
        raise GraftzooError("plots need matplotlib: pip install 'graftzoo[plots]'.") from None
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def new_axes() -> tuple[Any, Any]:
    """A fresh (figure, axes) pair drawn with the Agg canvas."""
    fig = new_figure()
    return fig, fig.add_subplot(1, 1, 1)


def save_figure(fig: Any, path: str | Path | None, name: str = "plot.png", tight: bool = True, **savefig: Any) -> Path:
    """Save `fig` as PNG at `path` (default: `name` in the plot folder; folders created), show it
    inline when in a notebook, and return the path."""
    out = plot_path(path, name)
    out.parent.mkdir(parents=True, exist_ok=True)
    if tight:
        fig.tight_layout()
    fig.savefig(out, format="png", **savefig)
    show_inline(out)
    return out
