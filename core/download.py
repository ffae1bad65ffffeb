"""Fetching a file from a URL: bounded waits (GRAFTZOO_NET_TIMEOUT), hash-checked, atomic, never a hang.

Names follow torch.hub's convention, `name-<first hex digits of the file's sha256>.ext`, and the
download is checked against that prefix before it takes the file's place.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

from graftzoo.artifacts.atomic import atomic_file
from graftzoo.errors import WeightsError
from graftzoo.hashing import sha256_file
from graftzoo.offline import TIMEOUT_VAR, WeightsOfflineError, is_offline, net_timeout, offline_switch

HASH_PREFIX = re.compile(r"-([a-f0-9]+)\.")
CHUNK = 1 << 20


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


def download(url: str, dest: Path, prefix: str | None, timeout: float | None = None) -> Path:
    """Download `url` to `dest` (through a temporary file), check its hash prefix, and return `dest`.

    `timeout` (default GRAFTZOO_NET_TIMEOUT) bounds connecting and every read, so an unreachable or
    silent host fails fast (a WeightsOfflineError); offline (GRAFTZOO_OFFLINE / HF_HUB_OFFLINE)
    nothing is sent at all.
    """
    put = f"Download it yourself and put it at {dest}."
    if is_offline():
        raise WeightsOfflineError(f"{offline_switch()} is set, so {url} was not downloaded. {put}")
    wait = timeout if timeout is not None else net_timeout()
    try:
        with atomic_file(dest) as tmp:
            with open(tmp, "wb") as out, urllib.request.urlopen(url, timeout=wait) as response:
                _copy(response, out, int(response.headers.get("Content-Length") or 0), dest.name)
            try:
                verify_hash(tmp, prefix)
            except WeightsError as exc:
                raise WeightsError(f"the file downloaded from {url} does not match the hash in its name; try again later") from exc
    except urllib.error.HTTPError as exc:
        raise WeightsError(f"could not download {url} ({exc}). {put}") from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise WeightsOfflineError(
            f"could not download {url}: the server could not be reached or went silent for {TIMEOUT_VAR}={wait:g} s "
            f"({exc}). Check the network, or: {put}"
        ) from exc
    except (OSError, ValueError) as exc:
        raise WeightsError(f"could not download {url} ({exc}). {put}") from exc
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
