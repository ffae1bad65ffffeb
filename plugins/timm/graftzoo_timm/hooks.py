"""The plugin's pluggy hooks; timm and torch are imported inside them, never at import time."""

from __future__ import annotations

from typing import Any

from graftzoo.registry.hookspecs import hookimpl


@hookimpl
def graftzoo_archs() -> list[dict[str, Any]]:
    """timm's whole catalogue, one entry per `timm.list_models()` name."""
    from graftzoo_timm.listing import arch_entries

    return arch_entries()


@hookimpl
def graftzoo_describe_arch(name: str) -> dict[str, Any] | None:
    """`num_features` and `pooled` of `timm/<name>`, from a model built on the meta device."""
    namespace, _, bare = name.rpartition("/")
    if namespace not in ("", "timm"):
        return None
    from graftzoo_timm.describe import describe

    return describe(bare)
