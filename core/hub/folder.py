"""The files of a folder to push, as sorted (path in repo, local path) pairs."""

from __future__ import annotations

import os
from pathlib import Path

from graftzoo.hub.errors import HubError

_SKIPPED_DIRS = {".git", "__pycache__"}


def folder_files(folder: str | os.PathLike[str]) -> list[tuple[str, Path]]:
    """List every file under `folder` (recursively, `.git` skipped) with its posix path in the repo."""
    root = Path(folder)
    if not root.is_dir():
        raise HubError(f"Cannot push {str(root)!r}: it is not a folder. Save the artifact first, then push its folder.")
    files: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIPPED_DIRS)
        for filename in filenames:
            path = Path(dirpath) / filename
            files.append((path.relative_to(root).as_posix(), path))
    if not files:
        raise HubError(f"Cannot push {str(root)!r}: the folder is empty. Save the artifact into it first.")
    return sorted(files)
