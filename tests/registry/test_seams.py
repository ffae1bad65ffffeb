"""Seams between core, registry and plugins: priority, plugin commands, plugin hubs, default heads,
typed lookups, and a core manifest that names no plugin (input-contract issue #8)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from graftzoo.errors import AmbiguousNameError, PluginError, UnknownNameError
from graftzoo.registry.cli import main
from graftzoo.spec import ArchSpec, HeadSpec, TaskSpec
from graftzoo.testing import FakePluginSite, arch_manifest

DEMO = '''
from pathlib import Path

def run(out, epochs=None):
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out) / "ran.txt").write_text("{ns} " + str(epochs))
    return 0
'''


def _demo_plugin(site: FakePluginSite, ns: str, priority: int) -> None:
    manifest = (f'[plugin]\nnamespace = "{ns}"\napi_version = 1\npriority = {priority}\n'
                f'[[commands]]\nname = "demo"\nfactory = "{ns}_dist.demo:run"\ndescription = "the {ns} demo"\n')
    site.add(f"{ns}-dist", plugin=ns, manifest=manifest, modules={"demo.py": DEMO.replace("{ns}", ns)})


def test_demo_is_a_command_plugins_register(fake_plugin_site: FakePluginSite, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    _demo_plugin(fake_plugin_site, "pics", priority=30)
    _demo_plugin(fake_plugin_site, "rows", priority=0)
    fake_plugin_site.registry()
    assert main(["demo", "--out", str(tmp_path / "a"), "--epochs", "2"]) == 0
    assert (tmp_path / "a" / "ran.txt").read_text() == "pics 2"  # the highest priority
    assert main(["demo", "rows", "--out", str(tmp_path / "b")]) == 0
    assert (tmp_path / "b" / "ran.txt").read_text() == "rows None"
    assert main(["demo", "--list"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]] == ["pics/demo", "rows/demo"]
    assert main(["demo", "nosuch", "--out", str(tmp_path / "c")]) == 2
    assert "nosuch/demo" in capsys.readouterr().err and not (tmp_path / "c").exists()


def test_demo_without_a_plugin_says_what_to_install(fake_plugin_site: FakePluginSite, capsys: pytest.CaptureFixture[str]) -> None:
    fake_plugin_site.add("good-dist", plugin="good", manifest=arch_manifest("good", "alpha"))
    fake_plugin_site.registry()
    assert main(["demo"]) == 2
    assert "no installed plugin registers a demo" in capsys.readouterr().err


def test_the_installed_demo_is_registered_by_graftzoo_vision() -> None:
    from graftzoo.registry import current

    spec = current().command("demo")
    assert (spec.name, spec.distribution) == ("vision/demo", "graftzoo-vision")


def test_bare_efficientnet_lite0_is_the_packaged_offline_arch() -> None:
    from graftzoo.registry import current

    spec = current().get_arch("efficientnet_lite0")
    assert spec.name == "packaged/efficientnet_lite0" and spec.default_weights == "packaged:efficientnet-lite0"
    assert "timm/efficientnet_lite0" in current().names("archs")  # timm's stays reachable by full name


def test_priority_breaks_ties_and_graftzoo_prefer_overrides(fake_plugin_site: FakePluginSite, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_plugin_site.add("low-dist", plugin="low", manifest=arch_manifest("low", "net", priority=5))
    fake_plugin_site.add("high-dist", plugin="high", manifest=arch_manifest("high", "net", priority=50))
    fake_plugin_site.add("peer-dist", plugin="peer", manifest=arch_manifest("peer", "net", priority=50))
    fake_plugin_site.add("top-dist", plugin="top", manifest=arch_manifest("top", "solo", "pair", priority=9))
    fake_plugin_site.add("base-dist", plugin="base", manifest=arch_manifest("base", "pair"))
    registry = fake_plugin_site.registry()
    assert registry.get("archs", "pair").name == "top/pair"
    with pytest.raises(AmbiguousNameError, match="equal priority"):
        registry.get("archs", "net")  # high and peer tie at 50
    monkeypatch.setenv("GRAFTZOO_PREFER", "low")
    assert registry.get("archs", "net").name == "low/net"


VAULT_HUB = '''
from graftzoo.errors import GraftzooError

class VaultHub:
    kind = "vault"
    def push(self, folder, repo_id, revision="main", commit_message=None):
        raise GraftzooError("the vault is read-only")
    def pull(self, repo_id, revision=None):
        raise GraftzooError(f"the vault holds no {repo_id}")
    def list_revisions(self, repo_id, revision="main"):
        return []
'''


def test_info_reaches_a_plugins_hub(fake_plugin_site: FakePluginSite, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = ('[plugin]\nnamespace = "vault"\napi_version = 1\n'
                '[[hubs]]\nname = "vault"\nscheme = "vault"\nfactory = "vault_dist.hub:VaultHub"\n')
    fake_plugin_site.add("vault-dist", plugin="vault", manifest=manifest, modules={"hub.py": VAULT_HUB})
    fake_plugin_site.registry()
    assert main(["info", "vault://alice/pets"]) == 2
    assert "the vault holds no alice/pets" in capsys.readouterr().err  # answered by the plugin's hub


def test_default_head_comes_from_the_head_made_for_the_task(fake_plugin_site: FakePluginSite) -> None:
    core = ('[plugin]\nnamespace = "core"\napi_version = 1\n'
            '[[tasks]]\nname = "classification"\nfactory = "graftzoo.task:ClassificationTask"\n'
            '[[tasks]]\nname = "regression"\nfactory = "graftzoo.task:RegressionTask"\n')
    def heads(ns: str, priority: int) -> str:
        return (f'[plugin]\nnamespace = "{ns}"\napi_version = 1\npriority = {priority}\n'
                f'[[heads]]\nname = "classify"\nfactory = "{ns}_dist.heads:classify"\ntask = "core/classification"\n')

    fake_plugin_site.add("core-dist", plugin="core", manifest=core)
    fake_plugin_site.add("pics-dist", plugin="pics", manifest=heads("pics", 30))
    fake_plugin_site.add("words-dist", plugin="words", manifest=heads("words", 5))
    registry = fake_plugin_site.registry()
    assert registry.default_head("classification").name == "pics/classify"
    with pytest.raises(PluginError, match="no single default head"):
        registry.default_head("core/regression")


def test_core_manifest_names_no_plugin() -> None:
    import graftzoo

    manifest = tomllib.loads((Path(graftzoo.__file__).parent / "graftzoo.toml").read_text())
    kinds = {k: v for k, v in manifest.items() if k not in ("plugin", "suggest")}
    refs = [str(value) for entries in kinds.values() for entry in entries for key, value in entry.items() if key != "description"]
    foreign = [r for r in refs if "/" in r and not r.startswith("core/") or ":" in r and not r.startswith("graftzoo.")]
    assert refs and foreign == []


def test_lookups_are_typed(fake_plugin_site: FakePluginSite) -> None:
    manifest = (arch_manifest("pics", "net") + '[[heads]]\nname = "classify"\nfactory = "m:f"\n'
                '[[tasks]]\nname = "label"\nfactory = "m:T"\n')
    fake_plugin_site.add("pics-dist", plugin="pics", manifest=manifest)
    registry = fake_plugin_site.registry()
    assert isinstance(registry.get_arch("net"), ArchSpec)
    assert isinstance(registry.get_head("classify"), HeadSpec)
    assert isinstance(registry.spec(TaskSpec, "label"), TaskSpec)
    assert registry.get("heads", "classify") == registry.get_head("pics/classify")  # `get` still works
    with pytest.raises(UnknownNameError):
        registry.get_head("net")


def test_a_fake_plugin_cannot_shadow_an_installed_package(fake_plugin_site: FakePluginSite) -> None:
    with pytest.raises(ValueError, match="installed already"):
        fake_plugin_site.add("graftzoo", plugin="core", manifest=arch_manifest("core", "x"))  # would unload graftzoo
    fake_plugin_site.add("mine-dist", plugin="mine", manifest=arch_manifest("mine", "x"))
    fake_plugin_site.add("mine-dist", plugin="mine", manifest=arch_manifest("mine", "x", "y"), version="2.0")  # re-adding is fine
    assert fake_plugin_site.registry().names("archs") == ["mine/x", "mine/y"]
