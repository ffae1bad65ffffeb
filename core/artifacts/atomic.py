"""Writing a file or a folder all at once: build it next to its destination, then rename it into place.

Temporary names carry their owner (a host digest and a process id), so leftovers of a killed
writer are recognised and cleaned on the next access, and a live writer's are never touched.
A folder replaced in two renames (old aside, new in) that was killed between them is put back
by `recover_folder`, which `atomic_folder` and readers of saved heads call first.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from graftzoo.errors import ArtifactError

STALE_AFTER_S = 24 * 3600  # a leftover of another host (or without an owner) is stale after a day
_OWNER = re.compile(r"(?P<host>[0-9a-f]{8})-(?P<pid>[0-9]+)-[A-Za-z0-9_]+")


def owner_tag() -> str:
    """`<host digest>-<pid>-`: what a temporary name starts with after its prefix."""
    return f"{_host()}-{os.getpid()}-"


def owned_temp_dir(parent: Path, prefix: str) -> Path:
    """A new empty folder `parent/<prefix><owner>-<random>`."""
    return Path(tempfile.mkdtemp(prefix=prefix + owner_tag(), dir=parent))


def is_stale(path: Path, prefix: str, max_age_s: float = STALE_AFTER_S) -> bool:
    """True when the writer that made `path` is gone: its process is dead on this host, or
    (another host, or no owner in the name) it has not been touched for `max_age_s`."""
    match = _OWNER.fullmatch(path.name[len(prefix):]) if path.name.startswith(prefix) else None
    if match is not None and match["host"] == _host():
        return not _alive(int(match["pid"]))
    try:
        return time.time() - path.lstat().st_mtime > max_age_s
    except FileNotFoundError:
        return False


def remove_stale(parent: Path, prefix: str) -> list[Path]:
    """Delete the stale leftovers `parent/<prefix>*`; returns what was deleted."""
    removed = []
    for path in sorted(parent.glob(glob_escape(prefix) + "*")) if parent.is_dir() else []:
        if is_stale(path, prefix):
            _remove(path)
            removed.append(path)
    return removed


@contextmanager
def atomic_file(path: str | os.PathLike[str], *, sync: bool = True) -> Iterator[Path]:
    """Yield a temporary path next to `path`; once the block succeeds it replaces `path` in one rename."""
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(dest.parent, _prefix(dest, "tmp"))  # what a killed writer of `path` left
    fd, name = tempfile.mkstemp(prefix=_prefix(dest, "tmp") + owner_tag(), dir=dest.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        if sync:
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes, *, sync: bool = True) -> None:
    """Write `data` to `path` through a temporary file and a rename: readers see the old or the new file."""
    with atomic_file(path, sync=sync) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: str | os.PathLike[str], text: str, *, sync: bool = True) -> None:
    """`write_bytes_atomic` for UTF-8 text."""
    write_bytes_atomic(path, text.encode("utf-8"), sync=sync)


@contextmanager
def atomic_folder(destination: str | os.PathLike[str], may_replace: Callable[[Path], bool]) -> Iterator[Path]:
    """Yield an empty temporary folder; on success it replaces `destination`.

    An existing destination is replaced only when `may_replace(destination)` says it may be (it
    holds a previous artifact and nothing else), and only after the new folder is complete. On any
    exception the temporary folder is removed and the destination is left as it was.
    """
    dest = Path(destination).expanduser().absolute()
    recover_folder(dest)
    if dest.is_symlink() or (dest.exists() and (not dest.is_dir() or (any(dest.iterdir()) and not may_replace(dest)))):
        raise ArtifactError(
            f"{dest} exists and is not a saved head (it is a link, a file, or holds other files: "
            f"{_listing(dest)}); refusing to replace it. Choose a new or empty folder, or move those files away."
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = owned_temp_dir(dest.parent, _prefix(dest, "tmp"))
    try:
        yield tmp
        _fsync_files(tmp)
        _swap(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def recover_folder(destination: str | os.PathLike[str]) -> bool:
    """Finish what a killed `atomic_folder` left: put a previous folder back if the destination is
    missing, then delete stale temporary and previous folders. True if a folder was put back."""
    dest = Path(destination).expanduser().absolute()
    parent = dest.parent
    if not parent.is_dir():
        return False
    restored = False
    old_prefix = _prefix(dest, "old")
    for old in sorted(parent.glob(glob_escape(old_prefix) + "*")):
        if not is_stale(old, old_prefix):
            continue
        previous = old / "previous"
        if not os.path.lexists(dest) and previous.is_dir() and not previous.is_symlink():
            os.replace(previous, dest)
            restored = True
        if os.path.lexists(dest):
            _remove(old)
    remove_stale(parent, _prefix(dest, "tmp"))
    return restored


def glob_escape(text: str) -> str:
    """`text` with glob's special characters escaped."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def _swap(new: Path, dest: Path) -> None:
    """Move `new` to `dest`; an existing `dest` is moved aside first and deleted afterwards.

    A kill between the two renames leaves `dest` missing and the old folder in `.<name>.old-…`:
    `recover_folder` puts it back on the next access.
    """
    if not dest.exists():
        os.replace(new, dest)
        return
    old = owned_temp_dir(dest.parent, _prefix(dest, "old"))
    os.replace(dest, old / "previous")
    try:
        os.replace(new, dest)
    except BaseException:
        os.replace(old / "previous", dest)
        shutil.rmtree(old, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _prefix(dest: Path, kind: str) -> str:
    return f".{dest.name}.{kind}-"


def _listing(folder: Path) -> str:
    if not folder.is_dir() or folder.is_symlink():
        return "not a folder"
    names = sorted(p.name for p in folder.iterdir())
    return ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")


def _fsync_files(folder: Path) -> None:
    for path in folder.iterdir():
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        for folder, _, _ in os.walk(path):  # read-only folders (a hub revision being built) made writable first
            os.chmod(folder, 0o700)
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _host() -> str:
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]
