"""A JSON cache of what plugins list through code, keyed by the installed plugin versions."""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from graftzoo.home import graftzoo_home
from graftzoo.registry.discovery import PluginRecord

CACHE_FORMAT = 2  # 2: dynamic entries checked by type and namespace


def cache_key(records: list[PluginRecord]) -> str:
    """A digest of every plugin's distribution, version and manifest, and of the versions of the
    libraries a plugin lists under `cache_on` (timm's catalogue changes with timm, not the plugin)."""
    parts = sorted(f"{r.distribution}=={r.version}:{r.name}:{r.manifest_digest}:{r.status}" for r in records)
    libraries = sorted({lib for r in records if r.manifest for lib in r.manifest.cache_on})
    parts += [f"{lib}=={_installed_version(lib)}" for lib in libraries]
    return hashlib.sha256("\n".join([f"format {CACHE_FORMAT}", *parts]).encode()).hexdigest()[:24]


def _installed_version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "absent"


class ListingCache:
    """Dynamic listings and described archs for one set of installed plugins, in one JSON file."""

    def __init__(self, key: str, folder: Path | None = None) -> None:
        self.path = (folder or graftzoo_home() / "registry") / f"listing-{key}.json"
        self._data: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        if self._data is None:
            try:
                self._data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self._data = {}  # missing or unreadable: recompute and rewrite
        return self._data

    def get(self, section: str, key: str) -> Any:
        return self._load().get(section, {}).get(key)

    def put(self, section: str, key: str, value: Any) -> None:
        """Store a value and rewrite the file atomically; an unwritable cache only costs speed."""
        data = self._load()
        data.setdefault(section, {})[key] = value
        write_json_atomic(self.path, data)


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON through a temporary file and a rename; failing to write only costs speed."""
    from graftzoo.artifacts.atomic import write_text_atomic  # only on a cold cache: keep it off the warm path

    try:
        write_text_atomic(path, json.dumps(data), sync=False)
    except OSError:
        pass
