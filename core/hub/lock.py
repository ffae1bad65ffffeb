"""An exclusive lock on a file across processes (fcntl.flock), waited for with a deadline.

The kernel releases the lock when its holder exits, killed or not, so a lock is never left behind.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from graftzoo.hub.errors import HubError

LOCK_TIMEOUT_S = 120.0


@contextmanager
def file_lock(path: Path, what: str, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing) for the block; `what` names it in errors."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        deadline = time.monotonic() + timeout_s
        delay = 0.001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise HubError(
                        f"{what} is locked by another process since more than {timeout_s:.0f} s ({path}). "
                        "Wait for the other push to finish, or stop it, and try again."
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
