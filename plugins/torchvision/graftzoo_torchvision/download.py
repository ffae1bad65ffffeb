"""Fetching a checkpoint into the torch hub cache: short timeouts, hash-checked, never a hang."""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

from graftzoo.artifacts.atomic import atomic_file
from graftzoo.errors import WeightsError
from graftzoo.hashing import sha256_file

# torch.hub's convention: `name-<first hex digits of the file's sha256>.ext`.
HASH_PREFIX = re.compile(r"-([a-f0-9]+)\.")
CHUNK = 1 << 20
OFFLINE_VARS = ("GRAFTZOO_OFFLINE", "HF_HUB_OFFLINE")


def hash_prefix(filename: str) -> str | None:
    """The sha256 prefix torchvision puts in a file name (`resnet18-f37072fd.pth` → `f37072fd`), or None."""
    match = HASH_PREFIX.search(filename)
    return match.group(1) if match else None


def sha256_of(path: Path) -> str:
    """The sha256 hex digest of the file at `path` (computed once per process while it is unchanged)."""
    return sha256_file(path)


def verify_hash(path: Path, prefix: str | None) -> None:
    """Raise a WeightsError (telling to delete the file) unless the sha256 of `path` starts with `prefix`."""
    if not prefix:
        return
    actual = sha256_of(path)
    if not actual.startswith(prefix):
        raise WeightsError(
            f"{path} is corrupt or not the expected checkpoint: its sha256 starts with {actual[: len(prefix)]}, "
            f"its name promises {prefix}. Delete the file and fetch it again."
        )


def offline() -> bool:
    """True when GRAFTZOO_OFFLINE or HF_HUB_OFFLINE asks graftzoo not to reach the network."""
    return any(os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on") for var in OFFLINE_VARS)


def download(url: str, dest: Path, prefix: str | None, timeout: float = 10.0) -> Path:
    """Download `url` to `dest` (through a temporary file), check its hash prefix, and return `dest`.

    `timeout` bounds connecting and every read, so an unreachable host fails fast.
    """
    try:
        with atomic_file(dest) as tmp:
            with open(tmp, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
                _copy(response, out, int(response.headers.get("Content-Length") or 0), dest.name)
            try:
                verify_hash(tmp, prefix)
            except WeightsError as exc:
                raise WeightsError(f"the file downloaded from {url} does not match the hash in its name; try again later") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise WeightsError(f"could not download {url} ({exc}). Download it yourself and put it at {dest}.") from exc
    return dest


def _copy(response: IO[bytes], out: IO[bytes], total: int, label: str) -> None:
    """Copy the response body to `out`, with a progress bar when tqdm is installed."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        tqdm = None
    bar = tqdm(total=total or None, unit="B", unit_scale=True, desc=label, leave=False) if tqdm else None
    try:
        for chunk in iter(lambda: response.read(CHUNK), b""):
            out.write(chunk)
            if bar is not None:
                bar.update(len(chunk))
    finally:
        if bar is not None:
            bar.close()
