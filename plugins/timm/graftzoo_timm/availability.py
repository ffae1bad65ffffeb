"""Whether `timm:<model>.<tag>` weights are in the Hugging Face cache (timm publishes them as `timm/<model>.<tag>`).

Files only: no timm, no torch. Weights timm serves from a URL rather than the Hub are reported as
not cached (they are fetched into torch's hub folder on first use).
"""

from __future__ import annotations

from pathlib import Path

from graftzoo.spec import ArchSpec
from graftzoo_timm.hub_cache import cache_dir
from graftzoo_timm.weights import HUB_FILES


def is_available(ref: str, arch: ArchSpec | None = None) -> bool | None:
    """True when a snapshot of the weights' Hub repo holds one of timm's weight files."""
    name = ref.partition(":")[2].lstrip("/")
    if "." not in name:
        if arch is None:
            return None
        name = f"{arch.name.split('/', 1)[1]}.{name}"
    repo = hub_cache() / f"models--timm--{name}" / "snapshots"
    return repo.is_dir() and any((snapshot / f).is_file() for snapshot in repo.iterdir() for f in HUB_FILES)


def hub_cache() -> Path:
    """GRAFTZOO_HF_CACHE, else huggingface_hub's cache folder (HF_HUB_CACHE, HF_HOME)."""
    from huggingface_hub import constants

    return cache_dir() or Path(constants.HF_HUB_CACHE)
