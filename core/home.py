"""Where graftzoo keeps its own files: the one reader of `GRAFTZOO_HOME`."""

from __future__ import annotations

import os
from pathlib import Path


def graftzoo_home() -> Path:
    """`$GRAFTZOO_HOME` (user `~` expanded), else `~/.cache/graftzoo`; read at each call."""
    return Path(os.environ.get("GRAFTZOO_HOME") or "~/.cache/graftzoo").expanduser()
