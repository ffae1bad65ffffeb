"""Whether an arch's default weights are on this machine now (packaged or cached) or must be downloaded.

Each weight source may register a light check (`available = "module:attr"` in its manifest's
`[[weights]]` table) that looks for files only: no torch import, no network.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Callable

from graftzoo.errors import GraftzooError
from graftzoo.imports import import_attr
from graftzoo.registry.catalog import Registry
from graftzoo.spec import ArchSpec

NOW, DOWNLOAD, NONE, UNKNOWN = "now", "download", "-", "?"


def weights_status(registry: Registry, spec: ArchSpec) -> str:
    """`now` (packaged or cached), `download` (fetched on first use), `-` (no default weights) or `?` (cannot tell)."""
    ref = spec.default_weights
    if not ref:
        return NONE
    check = _check(registry, ref.partition(":")[0])
    if check is None:
        return UNKNOWN
    try:
        found = check(ref, spec)
    except Exception:  # a plugin's broken check never breaks `graftzoo list`: its weights show as "?"
        return UNKNOWN
    return UNKNOWN if found is None else NOW if found else DOWNLOAD


def describe_status(status: str) -> str:
    """A phrase for `graftzoo info`."""
    return {
        NOW: "on this machine now (packaged or cached)",
        DOWNLOAD: "downloaded on first use (not on this machine yet)",
        NONE: "-",
        UNKNOWN: "unknown (its weight source cannot tell without loading them)",
    }[status]


def _check(registry: Registry, scheme: str) -> Callable[[str, ArchSpec], Any] | None:
    try:
        path = registry.weight_source_for(scheme).available
    except GraftzooError:
        return None
    return _import_check(path) if path else None


@cache
def _import_check(path: str) -> Callable[[str, ArchSpec], Any] | None:
    try:
        found: Callable[[str, ArchSpec], Any] = import_attr(path)
    except Exception:  # a plugin whose check cannot be imported: its weights show as "?"
        return None
    return found
