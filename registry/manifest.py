"""The static plugin manifest: a TOML file naming what a plugin registers, read without importing it.

Every table and field is checked by its type before anything is built from it: the `[plugin]`
table against `PluginTable`, each entry against the fields of its kind's spec dataclass
(`graftzoo.spec.SPEC_CLASSES`), `[[commands]]` against `CommandSpec`. A manifest that does not
fit raises `ManifestError` naming the field, and only that plugin fails.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graftzoo.errors import ManifestError
from graftzoo.registry.schema import check, check_fields, field_hints, problem
from graftzoo.spec import SPEC_CLASSES, FactorySpec, spec_from_dict

__all__ = ["API_VERSION", "KINDS", "CommandSpec", "ManifestError", "PluginManifest", "read_manifest", "qualify"]

API_VERSION = 1
SUPPORTED_API_VERSIONS = frozenset({1})
MANIFEST_FORMAT = 2  # bump when validation changes, so manifests parsed by older rules are parsed again
KINDS = tuple(SPEC_CLASSES)  # "archs", "heads", "tasks", "weights", "hubs", and any kind core adds
WORD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")  # a namespace, or the name part of a full name
DISTRIBUTION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")  # what `pip install` is told in a suggestion


@dataclass(frozen=True)
class PluginTable:
    """The `[plugin]` table: the types every field must have."""

    api_version: int
    name: str = ""
    namespace: str = ""
    description: str = ""
    hooks: str | None = None
    dynamic: list[str] = field(default_factory=list)
    cache_on: list[str] = field(default_factory=list)
    priority: int = 0


@dataclass(frozen=True)
class CommandSpec(FactorySpec):
    """A `[[commands]]` entry: a subcommand a plugin adds to `graftzoo` (`demo`), run as `factory(**options)`."""


TOP_LEVEL: dict[str, Any] = {
    "plugin": dict[str, Any],
    "defaults": dict[str, dict[str, Any]],
    "suggest": dict[str, str],
    "commands": list[dict[str, Any]],
    **{kind: list[dict[str, Any]] for kind in KINDS},
}  # other top-level tables are extensions other plugins may read (graftzoo-timm's `[[arch_defaults]]`)


@dataclass
class PluginManifest:
    """What one plugin declares: its namespace, API version, priority, hooks module and static entries."""

    name: str
    namespace: str
    api_version: int
    description: str = ""
    hooks: str | None = None
    dynamic: tuple[str, ...] = ()
    cache_on: tuple[str, ...] = ()
    priority: int = 0
    entries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    commands: list[dict[str, Any]] = field(default_factory=list)
    suggest: dict[str, str] = field(default_factory=dict)


def read_manifest(path: Path, default_name: str, text: str | None = None) -> PluginManifest:
    """Parse and validate the manifest at `path` (or its `text`); entries get full `namespace/name` names."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8") if text is None else text)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"cannot read manifest {path}: {exc}") from exc
    for key, hint in TOP_LEVEL.items():
        if key in data:
            check(data[key], hint, f"manifest {path}: {key!r}")
    if "plugin" not in data:
        raise ManifestError(f"manifest {path} has no [plugin] table (it needs at least api_version = {API_VERSION})")
    plugin = data["plugin"]
    if not isinstance(plugin.get("api_version"), int) or isinstance(plugin.get("api_version"), bool):
        raise ManifestError(f"manifest {path}: [plugin] api_version must be an integer (this graftzoo implements {API_VERSION})")
    check_fields(plugin, PluginTable, f"manifest {path}: [plugin]")
    table = PluginTable(**plugin)
    name = table.name or default_name
    namespace = table.namespace or name
    if not WORD.match(namespace):
        raise ManifestError(f"manifest {path}: namespace {namespace!r} must be one word of letters, digits, '.', '_', '+' or '-'")
    bad = sorted(set(table.dynamic) - set(KINDS))
    if bad:
        raise ManifestError(f"manifest {path}: dynamic kinds {bad} unknown; use some of {list(KINDS)}")
    defaults = data.get("defaults", {})
    bad = sorted(set(defaults) - set(KINDS))
    if bad:
        raise ManifestError(f"manifest {path}: [defaults] tables {bad} name no kind; use some of {list(KINDS)}")
    suggest = data.get("suggest", {})
    for key, dist in suggest.items():
        if not WORD.match(key) or not DISTRIBUTION.match(dist):
            raise ManifestError(f"manifest {path}: [suggest] {key} = {dist!r} must map a namespace to a distribution name")
    entries = {kind: _expand(kind, data.get(kind, []), defaults.get(kind, {}), namespace, path) for kind in KINDS}
    commands = [qualify_command(item, namespace) for item in data.get("commands", [])]
    return PluginManifest(
        name=name,
        namespace=namespace,
        api_version=table.api_version,
        description=table.description,
        hooks=table.hooks,
        dynamic=tuple(table.dynamic),
        cache_on=tuple(table.cache_on),
        priority=table.priority,
        entries=entries,
        commands=commands,
        suggest=dict(suggest),
    )


def full_name(name: Any, namespace: str, what: str) -> str:
    """`namespace/name` for a bare `name`; a full name must already be in `namespace`."""
    if not isinstance(name, str) or not name:
        raise ManifestError(f"a {what} entry has no name (got {name!r})")
    prefix, _, bare = name.rpartition("/")
    if prefix and prefix != namespace:
        raise ManifestError(
            f"{what} {name!r} is outside this plugin's namespace {namespace!r}: a plugin registers only "
            f"'{namespace}/...' names"
        )
    if not WORD.match(bare):
        raise ManifestError(f"{what} name {name!r} must be one word of letters, digits, '.', '_', '+' or '-'")
    return f"{namespace}/{bare}"


def qualify(kind: str, entry: Any, namespace: str) -> dict[str, Any]:
    """Give an entry its full name in `namespace` and check every field by the type of its spec.

    A field whose raw value does not fit its type is accepted only when the spec turns it into one
    that does (`stats = "imagenet"`), never by splitting a string into characters (`tags = "cnn"`).
    """
    if not isinstance(entry, dict):
        raise ManifestError(f"a {kind} entry must be a table, got {entry!r:.60}")
    entry = {**entry, "name": full_name(entry.get("name"), namespace, kind)}
    where = f"{kind} entry {entry['name']!r}"
    hints = field_hints(SPEC_CLASSES[kind])
    raw = {key: found for key, value in entry.items() if key in hints and (found := problem(value, hints[key]))}
    try:
        spec = spec_from_dict(kind, entry)
    except (TypeError, ValueError, AttributeError) as exc:
        named = "; ".join(f"{key!r} {found}" for key, found in raw.items())
        raise ManifestError(f"{where}: {exc}" + (f" ({named})" if named else "")) from exc
    for key, found in raw.items():
        value = entry[key]
        if isinstance(value, str) and getattr(spec, key) == tuple(value):
            raise ManifestError(f"{where}: {key!r} {found}")
    built = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)}
    check_fields(built, type(spec), where)
    return entry


def qualify_command(entry: dict[str, Any], namespace: str) -> dict[str, Any]:
    """A `[[commands]]` entry with its full name, checked against `CommandSpec`."""
    entry = {**entry, "name": full_name(entry.get("name"), namespace, "command")}
    check_fields(entry, CommandSpec, f"command {entry['name']!r}")
    try:
        CommandSpec(**entry)
    except TypeError as exc:
        raise ManifestError(f"command {entry['name']!r}: {exc}") from exc
    return entry


def _expand(kind: str, raw: list[dict[str, Any]], defaults: dict[str, Any], namespace: str, path: Path) -> list[dict[str, Any]]:
    """Expand `names = [...]` families (with `{name}` templates) and apply per-kind defaults."""
    out: list[dict[str, Any]] = []
    for item in raw:
        names = item.get("names")
        if names is None:
            out.append(qualify(kind, {**defaults, **item}, namespace))
            continue
        check(names, list[str], f"manifest {path}: {kind} 'names'")
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
    """The inverse of `manifest_to_json`; a cached file whose plugin fields are not of their types raises
    `ManifestError` (the TOML is then parsed again). Entries are checked as they are built."""
    manifest = PluginManifest(**{**data, "dynamic": tuple(data["dynamic"]), "cache_on": tuple(data["cache_on"])})
    scalars = {k: v for k, v in data.items() if k not in ("entries", "commands")}
    check_fields(scalars, PluginManifest, "cached manifest")
    return manifest
