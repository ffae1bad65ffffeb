"""Writing a folder all at once: build it next to its destination, then rename it into place."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from graftzoo.errors import ArtifactError


@contextmanager
def atomic_folder(destination: str | os.PathLike[str], may_replace: Callable[[Path], bool]) -> Iterator[Path]:
    """Yield an empty temporary folder; on success it replaces `destination` in one rename.

    An existing destination is replaced only when `may_replace(destination)` says it may be (it
    holds a previous artifact, or nothing), and only after the new folder is complete. On any
    exception the temporary folder is removed and the destination is left as it was.
    """
    dest = Path(destination).expanduser().absolute()
    if dest.exists() and (not dest.is_dir() or (any(dest.iterdir()) and not may_replace(dest))):
        raise ArtifactError(
            f"{dest} exists and is not a saved head; refusing to replace it. Choose a new folder or remove it first."
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    try:
        yield tmp
        _fsync_files(tmp)
        _swap(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _swap(new: Path, dest: Path) -> None:
    """Move `new` to `dest`; an existing `dest` is moved aside first and deleted afterwards."""
    if not dest.exists():
        os.replace(new, dest)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
    os.replace(dest, old / "previous")
    try:
        os.replace(new, dest)
    except BaseException:
        os.replace(old / "previous", dest)
        shutil.rmtree(old, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _fsync_files(folder: Path) -> None:
    for path in folder.iterdir():
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
