"""The graftzoo plugin registry: discovery through entry points, static manifests, pluggy hooks.

`current()` is the registry of the running interpreter, built on first use; `use()` swaps it
(the testing fixtures do) and `reset()` forgets it so the next call rediscovers plugins.
"""

from __future__ import annotations

from typing import Any

from graftzoo.errors import ManifestError
from graftzoo.registry.catalog import Registry
from graftzoo.registry.discovery import PluginRecord
from graftzoo.registry.manifest import API_VERSION
from graftzoo.spec import ArchSpec, HeadSpec, HubSpec, TaskSpec, WeightSourceSpec

__all__ = [
    "API_VERSION",
    "ManifestError",
    "PluginRecord",
    "Registry",
    "archs",
    "current",
    "get_arch",
    "get_head",
    "get_hub",
    "get_task",
    "get_weight_source",
    "heads",
    "plugins",
    "reset",
    "tasks",
    "use",
    "weight_sources",
]

_current: Registry | None = None


def current() -> Registry:
    """The active registry (discovered on first use)."""
    global _current
    if _current is None:
        _current = Registry()
    return _current


def use(registry: Registry | None) -> Registry | None:
    """Make `registry` the active one and return the previous one (None: rediscover next time)."""
    global _current
    previous, _current = _current, registry
    return previous


def reset() -> None:
    """Forget the active registry, e.g. after installing a plugin in a running process."""
    use(None)


def archs(pattern: str | None = None) -> list[str]:
    """Sorted full names of registered archs, optionally filtered by a shell wildcard."""
    return current().names("archs", pattern)


def heads(pattern: str | None = None) -> list[str]:
    """Sorted full names of registered heads."""
    return current().names("heads", pattern)


def tasks(pattern: str | None = None) -> list[str]:
    """Sorted full names of registered tasks."""
    return current().names("tasks", pattern)


def weight_sources(pattern: str | None = None) -> list[str]:
    """Sorted full names of registered weight sources."""
    return current().names("weights", pattern)


def get_arch(name: str) -> ArchSpec:
    """The `ArchSpec` registered under `name`."""
    return current().get_arch(name)


def get_head(name: str) -> HeadSpec:
    """The `HeadSpec` registered under `name`."""
    return current().get_head(name)


def get_task(name: str) -> TaskSpec:
    """The `TaskSpec` registered under `name`."""
    return current().get_task(name)


def get_weight_source(name: str) -> WeightSourceSpec:
    """The `WeightSourceSpec` registered under `name`."""
    return current().get_weight_source(name)


def get_hub(name: str) -> HubSpec:
    """The `HubSpec` registered under `name`."""
    return current().get_hub(name)


def plugins() -> list[dict[str, Any]]:
    """Every discovered plugin: name, distribution, version, status and error."""
    return [record.to_dict() for record in current().records]
