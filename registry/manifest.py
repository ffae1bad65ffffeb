"""The static plugin manifest: a TOML file naming what a plugin registers, read without importing it."""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graftzoo.spec import SPEC_CLASSES, spec_from_dict

API_VERSION = 1
SUPPORTED_API_VERSIONS = frozenset({1})
KINDS = tuple(SPEC_CLASSES)  # "archs", "heads", "tasks", "weights"


class ManifestError(ValueError):
    """A manifest that cannot be read or does not follow the format."""


@dataclass
class PluginManifest:
    """What one plugin declares: its namespace, API version, hooks module and static entries."""

    name: str
    namespace: str
    api_version: int
    description: str = ""
    hooks: str | None = None
    dynamic: tuple[str, ...] = ()
    cache_on: tuple[str, ...] = ()
    entries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    suggest: dict[str, str] = field(default_factory=dict)


def read_manifest(path: Path, default_name: str, text: str | None = None) -> PluginManifest:
    """Parse and validate the manifest at `path` (or its `text`); entries get full `namespace/name` names."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8") if text is None else text)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"cannot read manifest {path}: {exc}") from exc
    plugin = data.get("plugin", {})
    name = plugin.get("name", default_name)
    namespace = plugin.get("namespace", name)
    if "/" in namespace or not namespace:
        raise ManifestError(f"manifest {path}: namespace {namespace!r} must be a non-empty word without '/'")
    api_version = plugin.get("api_version")
    if not isinstance(api_version, int):
        raise ManifestError(f"manifest {path}: [plugin] api_version must be an integer (this graftzoo implements {API_VERSION})")
    dynamic = tuple(plugin.get("dynamic", ()))
    bad = sorted(set(dynamic) - set(KINDS))
    if bad:
        raise ManifestError(f"manifest {path}: dynamic kinds {bad} unknown; use some of {list(KINDS)}")
    defaults = data.get("defaults", {})
    entries = {kind: _expand(kind, data.get(kind, []), defaults.get(kind, {}), namespace, path) for kind in KINDS}
    return PluginManifest(
        name=name,
        namespace=namespace,
        api_version=api_version,
        description=plugin.get("description", ""),
        hooks=plugin.get("hooks"),
        dynamic=dynamic,
        cache_on=tuple(plugin.get("cache_on", ())),
        entries=entries,
        suggest=dict(data.get("suggest", {})),
    )


def qualify(kind: str, entry: dict[str, Any], namespace: str) -> dict[str, Any]:
    """Give a bare entry name its namespace and check that the entry builds a valid spec."""
    entry = dict(entry)
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise ManifestError(f"a {kind} entry has no name: {entry}")
    if "/" not in name:
        entry["name"] = f"{namespace}/{name}"
    try:
        spec_from_dict(kind, entry)
    except (TypeError, ValueError) as exc:
        raise ManifestError(f"{kind} entry {entry['name']!r}: {exc}") from exc
    return entry


def _expand(kind: str, raw: list[dict[str, Any]], defaults: dict[str, Any], namespace: str, path: Path) -> list[dict[str, Any]]:
    """Expand `names = [...]` families (with `{name}` templates) and apply per-kind defaults."""
    out: list[dict[str, Any]] = []
    for item in raw:
        names = item.get("names")
        if names is None:
            out.append(qualify(kind, {**defaults, **item}, namespace))
            continue
        for name in names:
            fields = {k: v for k, v in item.items() if k != "names"}
            entry = {**defaults, **_fill(fields, name), "name": name}
            out.append(qualify(kind, entry, namespace))
    return out


def _fill(value: Any, name: str) -> Any:
    if isinstance(value, str):
        return value.replace("{name}", name)
    if isinstance(value, dict):
        return {k: _fill(v, name) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, name) for v in value]
    return value


def manifest_to_json(manifest: PluginManifest) -> dict[str, Any]:
    """A validated manifest as plain JSON, so a warm start can skip parsing and validating TOML."""
    return dataclasses.asdict(manifest)


def manifest_from_json(data: dict[str, Any]) -> PluginManifest:
    """The inverse of `manifest_to_json`."""
    return PluginManifest(**{**data, "dynamic": tuple(data["dynamic"]), "cache_on": tuple(data["cache_on"])})
