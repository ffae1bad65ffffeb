"""File hashing, the one place: sha256 of a file, remembered while the file is unchanged.

A file is unchanged while its resolved path, inode, size, modification and change times are; the
change time (ctime) cannot be set back by a user, so an edit is always hashed again.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20

_memo: dict[tuple[str, int, int, int, int], str] = {}


def sha256_file(path: str | os.PathLike[str], *, remember: bool = True) -> str:
    """The sha256 hex digest of the file at `path`, read in chunks; computed once per unchanged file."""
    real = os.path.realpath(path)
    if not remember:
        return _hash_file(real)
    info = os.stat(real)
    key = (real, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    if key not in _memo:
        _memo[key] = _hash_file(real)
    return _memo[key]


def copy_and_hash(source: BinaryIO, destination: BinaryIO) -> tuple[int, str]:
    """Copy `source` to `destination` in chunks, returning (bytes copied, sha256 hex digest)."""
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK):
        digest.update(chunk)
        destination.write(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def forget_hashes() -> None:
    """Drop the remembered digests (benchmarks measure a cold read with it)."""
    _memo.clear()


def _hash_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
