"""The files of a folder to push, as sorted (path in repo, local path) pairs: regular files only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from graftzoo.hub.errors import HubError

_SKIPPED_DIRS = {".git", "__pycache__"}


def folder_files(folder: str | os.PathLike[str]) -> list[tuple[str, Path]]:
    """List every file under `folder` (recursively, `.git` skipped) with its posix path in the repo.

    A symbolic link (to a file or a folder) or any other non-regular entry is refused, never
    followed: what it points to may be outside the folder (`notes.txt -> ~/.ssh/id_rsa`).
    """
    root = Path(folder)
    if root.is_symlink() or not root.is_dir():
        raise HubError(f"Cannot push {str(root)!r}: it is not a folder. Save the artifact first, then push its folder.")
    files: list[tuple[str, Path]] = []
    refused: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIPPED_DIRS)
        for name in [*dirnames, *filenames]:
            path = Path(dirpath) / name
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode) or not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                refused.append(path.relative_to(root).as_posix())
            elif stat.S_ISREG(mode):
                files.append((path.relative_to(root).as_posix(), path))
    if refused:
        raise HubError(
            f"Cannot push {str(root)!r}: {', '.join(sorted(refused)[:10])} is a link or not a regular file, and "
            "links are never published (they may point outside the folder). Nothing was committed or published: copy the "
            "real file into the folder, or remove the link, and push again."
        )
    if not files:
        raise HubError(f"Cannot push {str(root)!r}: the folder is empty. Save the artifact into it first.")
    return sorted(files)
