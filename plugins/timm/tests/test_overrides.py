"""Defaults for timm archs supplied by other plugins' manifests (`[[arch_defaults]]`)."""

from __future__ import annotations

import pytest

from graftzoo.testing import FakePluginSite
from graftzoo_timm.listing import arch_entries
from graftzoo_timm.overrides import arch_defaults

MANIFEST = """
[plugin]
name = "fakeweights"
api_version = 1

[[arch_defaults]]
name = "timm/resnet18"
default_weights = "file:///weights/resnet18.safetensors"
stats = "inception"
unrelated = "ignored"

[[arch_defaults]]
name = "torchvision/resnet18"
default_weights = "file:///not/for/timm"
"""


def test_manifest_tables_are_read_without_importing(fake_plugin_site: FakePluginSite) -> None:
    fake_plugin_site.add("graftzoo-fakeweights", plugin="fakeweights", manifest=MANIFEST,
                         modules={"__init__.py": "raise ImportError('must not be imported')\n"})
    found = arch_defaults()
    assert found["timm/resnet18"] == {"default_weights": "file:///weights/resnet18.safetensors", "stats": "inception"}
    assert "torchvision/resnet18" not in found


def test_listing_applies_them(fake_plugin_site: FakePluginSite) -> None:
    fake_plugin_site.add("graftzoo-fakeweights", plugin="fakeweights", manifest=MANIFEST)
    entry = next(e for e in arch_entries() if e["name"] == "resnet18")
    assert entry["default_weights"] == "file:///weights/resnet18.safetensors" and entry["stats"] == "inception"


def test_disabled_plugins_supply_nothing(fake_plugin_site: FakePluginSite, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_plugin_site.add("graftzoo-fakeweights", plugin="fakeweights", manifest=MANIFEST)
    monkeypatch.setenv("GRAFTZOO_DISABLE_PLUGINS", "fakeweights")
    assert "timm/resnet18" not in arch_defaults()
