"""The hooks a plugin may implement for what a static manifest cannot say.

Hooks only ever gain parameters: an implementation may accept fewer arguments than the spec.
"""

from __future__ import annotations

from typing import Any

import pluggy

PROJECT = "graftzoo"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def graftzoo_archs() -> list[dict[str, Any]]:
    """Arch entries (manifest format) for a dynamic family; cached per installed versions."""


@hookspec
def graftzoo_heads() -> list[dict[str, Any]]:
    """Head entries that cannot be listed statically."""


@hookspec
def graftzoo_tasks() -> list[dict[str, Any]]:
    """Task entries that cannot be listed statically."""


@hookspec
def graftzoo_weights() -> list[dict[str, Any]]:
    """Weight source entries that cannot be listed statically."""


@hookspec
def graftzoo_hubs() -> list[dict[str, Any]]:
    """Hub entries that cannot be listed statically."""


@hookspec(firstresult=True)
def graftzoo_describe_arch(name: str) -> dict[str, Any] | None:
    """Details of one arch that are costly to compute (`num_features`); cached once computed."""
