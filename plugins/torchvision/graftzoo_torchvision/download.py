"""Fetching a checkpoint into the torch hub cache: graftzoo's bounded, hash-checked download (graftzoo.download)."""

from __future__ import annotations

from graftzoo.download import download, hash_prefix, sha256_of, verify_hash
from graftzoo.offline import OFFLINE_VARS, is_offline

__all__ = ["OFFLINE_VARS", "download", "hash_prefix", "offline", "sha256_of", "verify_hash"]


def offline() -> bool:
    """True when GRAFTZOO_OFFLINE or HF_HUB_OFFLINE asks graftzoo not to reach the network."""
    return is_offline()
