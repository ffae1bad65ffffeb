"""Find installed plugins through entry points in group `graftzoo` and read their manifests.

Nothing here imports plugin code: a manifest is located with `importlib.util.find_spec`, which
finds a top-level package without running it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from importlib.metadata import EntryPoint, distributions
from pathlib import Path
from typing import Iterable

from graftzoo.errors import ManifestError
from graftzoo.registry.manifest import (
    MANIFEST_FORMAT,
    SUPPORTED_API_VERSIONS,
    PluginManifest,
    manifest_from_json,
    manifest_to_json,
    read_manifest,
)

GROUP = "graftzoo"
MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # torchvision's 900 archs take 40 kB

OK = "ok"
FAILED = "failed"
DISABLED = "disabled"
INCOMPATIBLE = "incompatible"


@dataclass
class PluginRecord:
    """One installed plugin: where it comes from, whether it loaded, and why not."""

    name: str
    distribution: str
    version: str
    status: str
    error: str | None = None
    manifest: PluginManifest | None = None
    manifest_digest: str = ""

    def to_dict(self) -> dict[str, str | int | None]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "error": self.error,
            "namespace": self.manifest.namespace if self.manifest else None,
            "api_version": self.manifest.api_version if self.manifest else None,
            "priority": self.manifest.priority if self.manifest else None,
        }


def disabled_plugins() -> set[str]:
    """Plugin names listed in `GRAFTZOO_DISABLE_PLUGINS` (comma separated)."""
    raw = os.environ.get("GRAFTZOO_DISABLE_PLUGINS", "")
    return {name.strip() for name in raw.split(",") if name.strip()}


def strict_plugins() -> bool:
    """True when `GRAFTZOO_STRICT_PLUGINS=1`: plugin failures raise instead of being reported."""
    return os.environ.get("GRAFTZOO_STRICT_PLUGINS", "") not in ("", "0", "false", "no")


def discover(search_path: Iterable[str] | None = None) -> list[PluginRecord]:
    """Every plugin found on `search_path` (default: sys.path), sorted by name; failures are records too."""
    disabled = disabled_plugins()
    records: list[PluginRecord] = []
    seen: set[tuple[str, str]] = set()
    path = None if search_path is None else list(search_path)
    for dist in distributions(path=path) if path is not None else distributions():
        declared = dist.read_text("entry_points.txt") or ""
        if f"[{GROUP}]" not in declared:
            continue  # skip the metadata parse of every distribution that is no plugin
        dist_name = dist.metadata["Name"] or "?"
        for ep in dist.entry_points:
            if ep.group != GROUP or (dist_name, ep.name) in seen:
                continue
            seen.add((dist_name, ep.name))
            records.append(_load_record(ep, dist_name, dist.version, disabled))
    return sorted(records, key=lambda r: (r.name, r.distribution))


def _load_record(ep: EntryPoint, dist_name: str, version: str, disabled: set[str]) -> PluginRecord:
    record = PluginRecord(name=ep.name, distribution=dist_name, version=version, status=OK)
    if ep.name in disabled:
        record.status = DISABLED
        record.error = "disabled by GRAFTZOO_DISABLE_PLUGINS"
        return record
    try:
        path = manifest_path(ep)
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise ManifestError(f"manifest {path} is larger than {MAX_MANIFEST_BYTES} bytes: list big families with a hook")
        raw = path.read_bytes()
        record.manifest_digest = hashlib.sha256(raw + ep.name.encode()).hexdigest()[:16]
        record.manifest = _parsed_manifest(path, raw, ep.name, record.manifest_digest)
        _check_hooks_module(record.manifest.hooks, ep.module)
    except Exception as exc:  # whatever a plugin's files hold, only that plugin fails
        record.status = FAILED
        record.error = f"{type(exc).__name__}: {exc}"
        return record
    if record.manifest.api_version not in SUPPORTED_API_VERSIONS:
        record.status = INCOMPATIBLE
        record.error = (
            f"implements plugin API {record.manifest.api_version}, this graftzoo supports "
            f"{sorted(SUPPORTED_API_VERSIONS)}: install a {dist_name} release made for it, or upgrade graftzoo"
        )
    return record


def _check_hooks_module(hooks: str | None, package: str) -> None:
    """A manifest may name only a hooks module inside its own package, never another library's code."""
    top = package.split(".")[0]
    if hooks is not None and hooks != top and not hooks.startswith(top + "."):
        raise ManifestError(f"[plugin] hooks = {hooks!r} is outside the plugin's package {top!r}: name a module such as '{top}.hooks'")


def _parsed_manifest(path: Path, raw: bytes, name: str, digest: str) -> PluginManifest:
    """The manifest, from the JSON of an earlier parse of the same bytes when there is one."""
    from graftzoo.registry.cache import graftzoo_home, write_json_atomic

    cached = graftzoo_home() / "registry" / f"manifest-v{MANIFEST_FORMAT}-{digest}.json"
    try:
        return manifest_from_json(json.loads(cached.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, KeyError):
        pass  # not parsed before, or unreadable: parse the TOML again
    manifest = read_manifest(path, default_name=name, text=raw.decode("utf-8", errors="strict"))
    write_json_atomic(cached, manifest_to_json(manifest))
    return manifest


def manifest_path(ep: EntryPoint) -> Path:
    """The manifest file an entry point `package:file.toml` names, found without importing any package.

    Only the top-level package is located with `find_spec` (which runs no code for a top-level
    name); subpackages are folders below it, so a plugin's `__init__` never runs while listing.
    """
    if not ep.attr or Path(ep.attr).name != ep.attr:
        raise ManifestError(f"entry point {ep.name!r} = {ep.value!r} must name a manifest as 'package:graftzoo.toml'")
    top, *subpackages = ep.module.split(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError) as exc:
        raise ManifestError(f"cannot locate package {ep.module!r}: {exc}") from exc
    if spec is None:
        raise ManifestError(f"package {ep.module!r} named by entry point {ep.name!r} is not importable")
    folders = list(spec.submodule_search_locations or [])
    if not folders and spec.origin:
        folders = [str(Path(spec.origin).parent)]
    folders = [str(Path(folder, *subpackages)) for folder in folders]
    for folder in folders:
        candidate = Path(folder) / ep.attr
        if candidate.is_file():
            return candidate
    raise ManifestError(f"manifest {ep.attr!r} not found in package {ep.module!r} ({folders})")
