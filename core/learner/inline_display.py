"""Show a saved plot inline when running inside a notebook kernel (IPython imported only if already loaded)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["notebook_shell", "show_inline"]


def notebook_shell() -> Any:
    """The running IPython shell that can show images (a Jupyter kernel), or None.

    None outside IPython, in terminal IPython (it cannot draw images), and when
    `GRAFTZOO_INLINE_PLOTS=0`. Never imports IPython itself: a script that did not load it gets None.
    """
    if os.environ.get("GRAFTZOO_INLINE_PLOTS", "1") == "0":
        return None
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    shell = ipython.get_ipython()
    if shell is None:
        return None
    terminal = sys.modules.get("IPython.terminal.interactiveshell")
    if terminal is not None and isinstance(shell, terminal.TerminalInteractiveShell):
        return None
    return shell


def show_inline(path: Path) -> bool:
    """Display the PNG at `path` in the notebook when in one; True when it was displayed."""
    if notebook_shell() is None:
        return False
    from IPython.display import Image, display

    display(Image(data=path.read_bytes(), format="png"))
    return True
