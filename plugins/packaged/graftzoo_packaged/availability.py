"""Whether a `packaged:` weight file is installed: its package found with find_spec, nothing imported."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from graftzoo.spec import ArchSpec
from graftzoo_packaged.files import PACKAGED_FILES


def is_available(ref: str, arch: ArchSpec | None = None) -> bool | None:
    """True when the package shipping `ref`'s file is installed and holds it (the sha256 is checked on load)."""
    entry = PACKAGED_FILES.get(ref.partition(":")[2])
    if entry is None:
        return None
    spec = importlib.util.find_spec(entry.package)
    folders = list(spec.submodule_search_locations or []) if spec else []
    return any((Path(folder) / entry.path).is_file() for folder in folders)
