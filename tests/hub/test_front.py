"""push_folder / pull_folder: one front that dispatches on the reference."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from graftzoo.errors import ConfigError
from graftzoo.hub import HfHub, LocalHub, get_hub, pull_folder, push_folder

ReadTree = Callable[[Path], dict[str, bytes]]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GRAFTZOO_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_bare_ref_goes_to_the_local_hub_under_graftzoo_home(home: Path, artifact: Path, read_tree: ReadTree) -> None:
    revision = push_folder(artifact, "alice/pets", commit_message="hello")
    assert revision.hub == "local" and revision.message == "hello"
    assert (home / "hub" / "alice" / "pets" / "refs" / "main").read_text() == revision.sha
    for ref in (revision.ref, "alice/pets", "local://alice/pets@main", f"alice/pets@{revision.sha[:8]}"):
        assert read_tree(pull_folder(ref)) == read_tree(artifact)


def test_revision_in_the_ref_is_the_branch_pushed_to(home: Path, artifact: Path) -> None:
    revision = push_folder(artifact, "local://alice/pets@dev")
    assert LocalHub().list_branches("alice/pets") == {"dev": revision.sha}
    assert pull_folder("alice/pets@dev").name == revision.sha


def test_hub_argument_picks_the_hub_of_a_bare_ref(home: Path, artifact: Path) -> None:
    assert push_folder(artifact, "alice/pets", hub="local").hub == "local"
    with pytest.raises(ConfigError, match="drop one"):
        push_folder(artifact, "hf://alice/pets", hub="local")
    with pytest.raises(ConfigError, match="Unknown hub"):
        push_folder(artifact, "alice/pets", hub="s3")


def test_get_hub_makes_hubs_without_importing_the_client() -> None:
    assert isinstance(get_hub("local"), LocalHub)
    assert isinstance(get_hub("hf"), HfHub)
    assert get_hub("hf").kind == "hf" and get_hub("local").kind == "local"
    with pytest.raises(ConfigError):
        get_hub("ftp")


def test_importing_the_hubs_does_not_import_huggingface_hub() -> None:
    import subprocess

    code = "import sys, graftzoo.hub; assert 'huggingface_hub' not in sys.modules, 'imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_plugin_can_register_a_hub(fake_plugin_site, artifact: Path, read_tree, tmp_path: Path) -> None:
    hub_module = f'''
from graftzoo.hub.local import LocalHub

class VaultHub(LocalHub):
    kind = "vault"

    def __init__(self):
        super().__init__(root={str(tmp_path / "vault")!r})
'''
    manifest = '[plugin]\nnamespace = "vault"\napi_version = 1\n[[hubs]]\nname = "vault"\nscheme = "vault"\nfactory = "vault_dist.hub:VaultHub"\n'
    fake_plugin_site.add("vault-dist", plugin="vault", manifest=manifest, modules={"hub.py": hub_module})
    registry = fake_plugin_site.registry(include_installed=True)
    assert "vault/vault" in registry.names("hubs") and "core/local" in registry.names("hubs")
    revision = push_folder(artifact, "vault://alice/pets")
    assert (tmp_path / "vault" / "alice" / "pets").is_dir()
    assert read_tree(pull_folder(f"vault://alice/pets@{revision.sha}")) == read_tree(artifact)
