"""Bare names, namespace preference, ambiguity and helpful unknown-name errors."""

from __future__ import annotations

import pytest
from graftzoo.errors import AmbiguousNameError, UnknownNameError
from graftzoo.testing import FakePluginSite, arch_manifest


@pytest.fixture
def zoo(fake_plugin_site: FakePluginSite):
    fake_plugin_site.add("tv", plugin="torchvision", manifest=arch_manifest("torchvision", "resnet18", "alexnet", priority=20))
    fake_plugin_site.add("tm", plugin="timm", manifest=arch_manifest("timm", "resnet18", "convnext_tiny", priority=10))
    fake_plugin_site.add("f1", plugin="foo", manifest=arch_manifest("foo", "twin", "solo"))
    fake_plugin_site.add("f2", plugin="bar", manifest=arch_manifest("bar", "twin"))
    core = '[plugin]\nnamespace = "core"\napi_version = 1\n[suggest]\ntext = "graftzoo-text"\n'
    fake_plugin_site.add("core-dist", plugin="core", manifest=core)
    return fake_plugin_site.registry()


def test_unique_bare_name_resolves(zoo) -> None:
    assert zoo.get("archs", "convnext_tiny").name == "timm/convnext_tiny"
    assert zoo.get("archs", "solo").name == "foo/solo"


def test_declared_priority_ranks_bare_names(zoo) -> None:
    assert zoo.get("archs", "resnet18").name == "torchvision/resnet18"


def test_graftzoo_prefer_overrides(zoo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFTZOO_PREFER", "timm,torchvision")
    assert zoo.get("archs", "resnet18").name == "timm/resnet18"


def test_ambiguous_outside_preference_lists_candidates(zoo) -> None:
    with pytest.raises(AmbiguousNameError) as info:
        zoo.get("archs", "twin")
    assert "bar/twin" in str(info.value) and "foo/twin" in str(info.value)


def test_unknown_name_suggests_close_matches(zoo) -> None:
    with pytest.raises(UnknownNameError) as info:
        zoo.get("archs", "resnet81")
    assert "torchvision/resnet18" in str(info.value)


def test_unknown_namespace_of_known_plugin_gives_pip_line(zoo) -> None:
    with pytest.raises(UnknownNameError, match="pip install graftzoo-text"):
        zoo.get("archs", "text/awd_lstm")


def test_full_names_and_patterns(zoo) -> None:
    assert zoo.names("archs", "resnet*") == ["timm/resnet18", "torchvision/resnet18"]
    assert zoo.names("archs", "torchvision/*") == ["torchvision/alexnet", "torchvision/resnet18"]
    assert zoo.get("archs", "timm/resnet18").plugin == "timm"
