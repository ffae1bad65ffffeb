"""The one default folder for every plot: `$GRAFTZOO_PLOTS`, else `plots/` in the working directory."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["plot_folder", "plot_path"]


def plot_folder() -> Path:
    """`$GRAFTZOO_PLOTS` (user `~` expanded) when set, else `./plots`; read at each call."""
    return Path(os.environ.get("GRAFTZOO_PLOTS") or "plots").expanduser()


def plot_path(path: str | Path | None, name: str) -> Path:
    """`path` when given, else `plot_folder() / name` (every plot function's default)."""
    return Path(path) if path is not None else plot_folder() / name
