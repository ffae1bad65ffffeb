"""Files of Hugging Face Hub repos through the client's cache: cached first, downloaded only when online.

The cache is `GRAFTZOO_HF_CACHE` when set, else huggingface_hub's own (`HF_HUB_CACHE` / `HF_HOME`).
`GRAFTZOO_OFFLINE=1` or `HF_HUB_OFFLINE=1` (read at each call) never touches the network: a file
missing from the cache is a WeightsOfflineError naming the repo, the file and the folder. Online,
an unreachable Hub is one too, within seconds (GRAFTZOO_NET_TIMEOUT), never "not in the repo".
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from graftzoo.errors import WeightsError
from graftzoo.offline import TIMEOUT_VAR, WeightsOfflineError, is_offline, net_timeout, offline_switch
from graftzoo.hashing import sha256_file

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def cache_dir() -> Path | None:
    """The cache folder graftzoo passes to huggingface_hub (None: the client's default)."""
    folder = os.environ.get("GRAFTZOO_HF_CACHE")
    return Path(folder).expanduser() if folder else None


def cache_folder() -> Path:
    """The cache folder in effect, for messages."""
    from huggingface_hub import constants

    return cache_dir() or Path(constants.HF_HUB_CACHE)


def hub_file(repo_id: str, filenames: list[str], revision: str | None = None) -> Path:
    """The first of `filenames` that repo `repo_id` has, from the cache or (online) downloaded."""
    from huggingface_hub import try_to_load_from_cache

    for filename in filenames:
        found = try_to_load_from_cache(repo_id, filename, cache_dir=cache_dir(), revision=revision)
        if isinstance(found, str):
            return verify_blob(Path(found))
    if is_offline():
        raise WeightsOfflineError(
            f"{' or '.join(filenames)} of Hugging Face repo {repo_id!r} is not in the cache {cache_folder()} and "
            f"{offline_switch()} is set: run online once (or `hf download {repo_id}` elsewhere and copy the cache), "
            "or set GRAFTZOO_HF_CACHE to a cache folder that holds it"
        )
    return _download(repo_id, filenames, revision)


def _download(repo_id: str, filenames: list[str], revision: str | None) -> Path:
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError

    from graftzoo.hub.hf_client import fetch_file, is_transport_error

    folder = str(cache_dir()) if cache_dir() else None
    problems = []
    for filename in filenames:
        try:
            return verify_blob(Path(fetch_file(repo_id, filename, revision=revision, cache_dir=folder)))
        except LocalEntryNotFoundError as exc:  # a subclass of EntryNotFoundError: the Hub was not reached
            raise _unreachable(repo_id, filename, exc) from exc
        except EntryNotFoundError:
            problems.append(f"{filename}: not in the repo")
        except Exception as exc:  # auth, missing repo: all end the same way for the user
            if is_transport_error(exc):
                raise _unreachable(repo_id, filename, exc) from exc
            problems.append(f"{filename}: {type(exc).__name__}: {exc}")
            break
    raise WeightsError(
        f"cannot fetch weights from Hugging Face repo {repo_id!r} into {cache_folder()} ({'; '.join(problems)}). "
        "Check the repo name and the network (or set GRAFTZOO_OFFLINE=1 to use only the cache)"
    )


def _unreachable(repo_id: str, filename: str, exc: BaseException) -> WeightsOfflineError:
    from huggingface_hub import constants

    return WeightsOfflineError(
        f"cannot fetch {filename} of Hugging Face repo {repo_id!r}: {constants.ENDPOINT} could not be reached within "
        f"{TIMEOUT_VAR}={net_timeout():g} s and the file is not in the cache {cache_folder()} ({type(exc).__name__}). "
        "Check the network and HF_ENDPOINT, or set GRAFTZOO_OFFLINE=1 and GRAFTZOO_HF_CACHE to a cache that holds it"
    )


def verify_blob(path: Path) -> Path:
    """Check a cached file against the sha256 its blob is named by (LFS files); once per process."""
    blob = path.resolve()
    if not _SHA256.match(blob.name):
        return path  # small files are stored under their git sha1: nothing to check against
    if sha256_file(blob) != blob.name:
        raise WeightsError(f"cached file {path} does not match its sha256 {blob.name}: delete {blob} and fetch it again")
    return path
