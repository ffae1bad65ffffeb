"""Defaults that other installed plugins supply for timm archs (`[[arch_defaults]]` in their manifests).

A plugin that ships weights for a timm model (graftzoo-packaged ships EfficientNet-Lite0) says so
statically in its own manifest:

    [[arch_defaults]]
    name = "timm/tf_efficientnet_lite0"
    default_weights = "packaged:efficientnet-lite0"
    stats = [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]

The manifests are read as TOML, without importing the plugins. The registry's listing cache is
keyed by every installed plugin's version and manifest, so installing or removing such a plugin
refreshes the timm listing.
"""

from __future__ import annotations

import tomllib
from importlib.metadata import entry_points
from typing import Any

OVERRIDABLE = ("default_weights", "stats", "description", "lora_targets")


def arch_defaults() -> dict[str, dict[str, Any]]:
    """`{"timm/<name>": {field: value}}` from every enabled plugin's `[[arch_defaults]]`, first plugin by name wins."""
    from graftzoo.registry.discovery import GROUP, disabled_plugins, manifest_path

    disabled = disabled_plugins()
    found: dict[str, dict[str, Any]] = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        if ep.name in disabled:
            continue
        try:
            data = tomllib.loads(manifest_path(ep).read_text(encoding="utf-8"))
        except (OSError, ValueError, ImportError):
            continue  # the registry reports a broken plugin itself
        for item in data.get("arch_defaults", []):
            name = item.get("name", "")
            if isinstance(name, str) and name.startswith("timm/") and name not in found:
                found[name] = {key: item[key] for key in OVERRIDABLE if key in item}
    return found
