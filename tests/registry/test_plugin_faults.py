"""A broken, colliding, disabled or incompatible plugin never takes the registry down."""

from __future__ import annotations

import pytest
from graftzoo.errors import NameCollisionError, PluginError
from graftzoo.testing import FakePluginSite, arch_manifest

DYNAMIC_HOOKS = '''
import os
from pathlib import Path
from graftzoo.registry.hookspecs import hookimpl

@hookimpl
def graftzoo_archs():
    counter = Path(os.environ["FAKE_HOOK_COUNTER"])
    counter.write_text(str(int(counter.read_text() or 0) + 1) if counter.exists() else "1")
    return [{"name": f"net{i}", "factory": "torchvision.models:resnet18", "cut": -2} for i in range(3)]

@hookimpl
def graftzoo_describe_arch(name):
    return {"num_features": 512}
'''


def test_broken_plugins_are_isolated_and_reported(fake_plugin_site: FakePluginSite) -> None:
    fake_plugin_site.add("good-plugin", plugin="good", manifest=arch_manifest("good", "alpha"))
    fake_plugin_site.add("no-manifest", plugin="nomani", manifest=None)
    fake_plugin_site.add("bad-toml", plugin="badtoml", manifest="[plugin\nname=")
    fake_plugin_site.add(
        "raising-hooks", plugin="raising",
        manifest='[plugin]\nnamespace = "raising"\napi_version = 1\nhooks = "raising_hooks.hooks"\ndynamic = ["archs"]\n',
        modules={"hooks.py": "raise RuntimeError('plugin import exploded')\n"},
    )
    registry = fake_plugin_site.registry()
    assert registry.names("archs") == ["good/alpha"]
    status = {r.name: (r.status, r.error or "") for r in registry.records}
    assert status["good"] == ("ok", "")
    assert status["nomani"][0] == "failed" and "graftzoo.toml" in status["nomani"][1]
    assert status["badtoml"][0] == "failed" and "cannot read manifest" in status["badtoml"][1]
    assert status["raising"][0] == "failed" and "plugin import exploded" in status["raising"][1]


def test_strict_mode_raises(fake_plugin_site: FakePluginSite, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_plugin_site.add("no-manifest", plugin="nomani", manifest=None)
    monkeypatch.setenv("GRAFTZOO_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="nomani"):
        fake_plugin_site.registry()


def test_strict_mode_raises_for_failing_hooks(fake_plugin_site: FakePluginSite, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_plugin_site.add(
        "raising-hooks", plugin="raising",
        manifest='[plugin]\nnamespace = "raising"\napi_version = 1\nhooks = "raising_hooks.hooks"\ndynamic = ["archs"]\n',
        modules={"hooks.py": "raise RuntimeError('boom at import')\n"},
    )
    monkeypatch.setenv("GRAFTZOO_STRICT_PLUGINS", "1")
    registry = fake_plugin_site.registry()
    with pytest.raises(PluginError, match="boom at import"):
        registry.names("archs")


def test_name_collision_names_both_distributions(fake_plugin_site: FakePluginSite) -> None:
    fake_plugin_site.add("first-dist", plugin="first", manifest=arch_manifest("shared", "clash", "only1"))
    fake_plugin_site.add("second-dist", plugin="second", manifest=arch_manifest("shared", "clash"))
    registry = fake_plugin_site.registry()
    assert registry.get("archs", "shared/only1").distribution == "first-dist"
    with pytest.raises(NameCollisionError) as info:
        registry.get("archs", "shared/clash")
    assert "first-dist" in str(info.value) and "second-dist" in str(info.value)
    assert registry.collisions("archs") == {"shared/clash": ["first-dist", "second-dist"]}


def test_disabled_plugin_is_skipped(fake_plugin_site: FakePluginSite, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_plugin_site.add("a-dist", plugin="a", manifest=arch_manifest("a", "one"))
    fake_plugin_site.add("b-dist", plugin="b", manifest=arch_manifest("b", "two"))
    monkeypatch.setenv("GRAFTZOO_DISABLE_PLUGINS", "b, other")
    registry = fake_plugin_site.registry()
    assert registry.names("archs") == ["a/one"]
    assert {r.name: r.status for r in registry.records} == {"a": "ok", "b": "disabled"}


def test_api_version_mismatch_is_reported_not_raised(fake_plugin_site: FakePluginSite) -> None:
    fake_plugin_site.add("future-dist", plugin="future", manifest=arch_manifest("future", "x", api_version=99))
    fake_plugin_site.add("ok-dist", plugin="ok", manifest=arch_manifest("ok", "y"))
    registry = fake_plugin_site.registry()
    assert registry.names("archs") == ["ok/y"]
    record = next(r for r in registry.records if r.name == "future")
    assert record.status == "incompatible"
    assert "API 99" in record.error and "future-dist" in record.error


def test_invalid_entry_fails_only_that_plugin(fake_plugin_site: FakePluginSite) -> None:
    bad = '[plugin]\nnamespace = "bad"\napi_version = 1\n[[archs]]\nname = "x"\nfactory = "m:f"\ncolour = "red"\n'
    fake_plugin_site.add("bad-dist", plugin="bad", manifest=bad)
    fake_plugin_site.add("ok-dist", plugin="ok", manifest=arch_manifest("ok", "y"))
    registry = fake_plugin_site.registry()
    assert registry.names("archs") == ["ok/y"]
    record = next(r for r in registry.records if r.name == "bad")
    assert record.status == "failed" and "colour" in record.error


def test_dynamic_listing_is_cached_per_installed_versions(
    fake_plugin_site: FakePluginSite, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    counter = tmp_path / "calls"
    monkeypatch.setenv("FAKE_HOOK_COUNTER", str(counter))
    manifest = '[plugin]\nnamespace = "dyn"\napi_version = 1\nhooks = "dyn_dist.hooks"\ndynamic = ["archs"]\n'
    fake_plugin_site.add("dyn-dist", plugin="dyn", manifest=manifest, modules={"hooks.py": DYNAMIC_HOOKS})
    assert fake_plugin_site.registry().names("archs") == ["dyn/net0", "dyn/net1", "dyn/net2"]
    assert counter.read_text() == "1"
    assert fake_plugin_site.registry().names("archs") == ["dyn/net0", "dyn/net1", "dyn/net2"]
    assert counter.read_text() == "1", "a second registry must read the cache, not call the hook"
    # a distribution installed after the cache was written changes the key: the new plugin shows up
    fake_plugin_site.add("late-dist", plugin="late", manifest=arch_manifest("late", "newcomer"))
    assert "late/newcomer" in fake_plugin_site.registry().names("archs")
    # upgrading the dynamic plugin invalidates its cached listing
    fake_plugin_site.add("dyn-dist", plugin="dyn", manifest=manifest, modules={"hooks.py": DYNAMIC_HOOKS}, version="2.0")
    fake_plugin_site.forget_modules()
    fake_plugin_site.registry().names("archs")
    assert counter.read_text() == "3"


def test_described_details_are_cached(fake_plugin_site: FakePluginSite, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("FAKE_HOOK_COUNTER", str(tmp_path / "calls"))
    manifest = '[plugin]\nnamespace = "dyn"\napi_version = 1\nhooks = "dyn_dist.hooks"\ndynamic = ["archs"]\n'
    fake_plugin_site.add("dyn-dist", plugin="dyn", manifest=manifest, modules={"hooks.py": DYNAMIC_HOOKS})
    assert fake_plugin_site.registry().get_arch("net1").num_features == 512
    fake_plugin_site.forget_modules()
    registry = fake_plugin_site.registry()
    assert registry.get_arch("dyn/net1").num_features == 512
    assert registry.cache.get("describe", "dyn/net1") == {"num_features": 512}


def test_listing_is_rebuilt_when_a_cache_on_library_changes(
    fake_plugin_site: FakePluginSite, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    counter = tmp_path / "calls"
    monkeypatch.setenv("FAKE_HOOK_COUNTER", str(counter))
    manifest = '[plugin]\nnamespace = "dyn"\napi_version = 1\nhooks = "dyn_dist.hooks"\ndynamic = ["archs"]\ncache_on = ["zoolib"]\n'
    fake_plugin_site.add("dyn-dist", plugin="dyn", manifest=manifest, modules={"hooks.py": DYNAMIC_HOOKS})
    library = fake_plugin_site.root / "zoolib-1.0.dist-info"
    library.mkdir()
    (library / "METADATA").write_text("Metadata-Version: 2.1\nName: zoolib\nVersion: 1.0\n")
    fake_plugin_site.registry().names("archs")
    fake_plugin_site.registry().names("archs")
    assert counter.read_text() == "1"
    library.rename(fake_plugin_site.root / "zoolib-2.0.dist-info")
    (fake_plugin_site.root / "zoolib-2.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: zoolib\nVersion: 2.0\n")
    fake_plugin_site.forget_modules()
    fake_plugin_site.registry().names("archs")
    assert counter.read_text() == "2"


def test_an_arch_that_cannot_be_described_does_not_fail_its_plugin(fake_plugin_site: FakePluginSite) -> None:
    hooks = "from graftzoo.registry.hookspecs import hookimpl\n\n@hookimpl\ndef graftzoo_describe_arch(name):\n    raise RuntimeError('no meta device for ' + name)\n"
    manifest = arch_manifest("odd", "thing").replace("api_version = 1", 'api_version = 1\nhooks = "odd_dist.hooks"')
    fake_plugin_site.add("odd-dist", plugin="odd", manifest=manifest, modules={"hooks.py": hooks})
    registry = fake_plugin_site.registry()
    assert registry.get_arch("odd/thing").num_features is None
    assert {r.name: r.status for r in registry.records} == {"odd": "ok"}
