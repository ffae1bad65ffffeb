"""push_head / pull_head / load_head through the local hub (under an empty GRAFTZOO_HOME)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch

from graftzoo import registry
from graftzoo.artifacts import load_head, pull_head, push_head
from graftzoo.errors import ArtifactError, ConfigError
from graftzoo.hub import LocalHub, RepoNotFoundError, push_folder


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_push_pull_by_main_and_by_revision(kit: ModuleType, frozen: Any, saved: Path, home: Path) -> None:
    before = kit.logits(frozen)
    first = push_head(saved, "alice/pets", commit_message="first head")
    assert first.hub == "local" and first.repo_id == "alice/pets" and len(first.sha) == 40
    for ref in ("alice/pets", "alice/pets@main", "local://alice/pets", first.ref, f"alice/pets@{first.sha[:8]}"):
        assert torch.equal(kit.logits(load_head(ref)), before), ref
    folder = pull_head("alice/pets")
    assert folder.is_relative_to(home) and sorted(p.name for p in folder.iterdir()) == ["README.md", "graftzoo.json", "head.safetensors"]
    assert 'graftzoo.load_head("alice/pets")' in (folder / "README.md").read_text()


def test_second_push_makes_a_new_revision_and_keeps_the_old(kit: ModuleType, frozen: Any, saved: Path, home: Path) -> None:
    before = kit.logits(frozen)
    first = push_head(saved, "alice/pets")
    assert push_head(saved, "alice/pets").sha == first.sha  # same files: no new revision
    kit.train_frozen(frozen, step=0.3)
    second = push_head(frozen, "alice/pets", commit_message="better head")  # a model is saved on the way
    assert second.sha != first.sha and second.message == "better head"
    assert torch.equal(kit.logits(load_head("alice/pets")), kit.logits(frozen))
    assert torch.equal(kit.logits(load_head(first.ref)), before)
    assert [r.sha for r in LocalHub().list_revisions("alice/pets")] == [second.sha, first.sha]


def test_pull_to_a_folder_copies_a_writable_artifact(kit: ModuleType, frozen: Any, saved: Path, home: Path, tmp_path: Path) -> None:
    revision = push_head(saved, "alice/pets")
    copy = pull_head(revision.ref, to=tmp_path / "copy")
    assert _tree(copy) == _tree(pull_head(revision.ref))
    (copy / "README.md").write_text("edited")  # a plain copy, not the hub's read-only files
    assert torch.equal(kit.logits(load_head(copy)), kit.logits(frozen))
    again = pull_head(revision.ref, to=copy)  # replaces an earlier pull
    assert (again / "README.md").read_text() != "edited"


def test_damaged_artifacts_are_not_pushed_and_fail_cleanly_when_pulled(saved: Path, home: Path, tmp_path: Path) -> None:
    broken = Path(shutil.copytree(saved, tmp_path / "broken"))
    data = (broken / "head.safetensors").read_bytes()
    (broken / "head.safetensors").write_bytes(data[: len(data) // 3])
    with pytest.raises(ArtifactError, match="truncated"):
        push_head(broken, "alice/broken")
    with pytest.raises(RepoNotFoundError):
        load_head("alice/broken")
    revision = push_folder(broken, "alice/broken")  # published behind graftzoo's back
    hub_before = _tree(home)
    with pytest.raises(ArtifactError, match=r"head\.safetensors has .* truncated"):
        load_head("alice/broken")
    with pytest.raises(ArtifactError, match="truncated"):
        pull_head(revision.ref, to=tmp_path / "copy")
    assert _tree(home) == hub_before
    assert not (tmp_path / "copy").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_missing_plugin_through_the_hub(saved: Path, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    foreign = Path(shutil.copytree(saved, tmp_path / "foreign"))
    config = json.loads((foreign / "graftzoo.json").read_text())
    config["arch"] = "text/awd_lstm"
    (foreign / "graftzoo.json").write_text(json.dumps(config))
    push_head(foreign, "alice/text-head")  # the files are fine; only the plugin is missing here
    hub_before = _tree(home / "hub")
    monkeypatch.setenv("GRAFTZOO_DISABLE_PLUGINS", "text")  # as if graftzoo-text were not installed
    registry.reset()
    try:
        with pytest.raises(ArtifactError, match="pip install graftzoo-text"):
            load_head("alice/text-head")
    finally:
        monkeypatch.delenv("GRAFTZOO_DISABLE_PLUGINS")
        registry.reset()
    assert _tree(home / "hub") == hub_before  # the failed load changed nothing in the hub


def test_an_existing_folder_wins_over_a_bare_hub_ref(kit: ModuleType, frozen: Any, saved: Path, home: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(saved.parent.parent)
    relative = f"{saved.parent.name}/{saved.name}"  # looks like ns/name, but is a folder here
    assert torch.equal(kit.logits(load_head(relative)), kit.logits(frozen))


def test_conflicting_hub_and_reference(saved: Path, home: Path) -> None:
    with pytest.raises(ConfigError, match="names the 'hf' hub but hub='local' was given"):
        push_head(saved, "hf://alice/pets", hub="local")
    assert not home.exists()
