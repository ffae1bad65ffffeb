"""The local hub: immutable revisions, branch refs, atomic pushes, clear errors."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from graftzoo.errors import GraftzooError
from graftzoo.hub import HubError, LocalHub, RepoNotFoundError, RevisionNotFoundError

SHA = re.compile(r"^[0-9a-f]{40}$")
ReadTree = Callable[[Path], dict[str, bytes]]


def test_push_then_pull_by_main_full_sha_and_short_sha(
    local_hub: LocalHub, artifact: Path, read_tree: ReadTree
) -> None:
    revision = local_hub.push(artifact, "alice/pets", commit_message="first head")
    assert SHA.match(revision.sha)
    assert (revision.hub, revision.repo_id, revision.message) == ("local", "alice/pets", "first head")
    assert revision.ref == f"local://alice/pets@{revision.sha}"
    expected = read_tree(artifact)
    for pulled in (
        local_hub.pull("alice/pets"),
        local_hub.pull("alice/pets", "main"),
        local_hub.pull("alice/pets", revision.sha),
        local_hub.pull("alice/pets", revision.sha[:7]),
    ):
        assert read_tree(pulled) == expected
    folder = local_hub.pull("alice/pets")
    assert folder == local_hub.root / "alice" / "pets" / "revisions" / revision.sha
    assert revision.url == folder.resolve().as_uri()
    assert (local_hub.root / "alice" / "pets" / "refs" / "main").read_text() == revision.sha


def test_pulled_files_are_read_only(local_hub: LocalHub, artifact: Path) -> None:
    folder = local_hub.pull("alice/pets", local_hub.push(artifact, "alice/pets").sha)
    assert all(not os.stat(p).st_mode & 0o222 for p in folder.rglob("*") if p.is_file())


def test_nested_folders_are_kept(local_hub: LocalHub, artifact: Path, read_tree: ReadTree) -> None:
    (artifact / "extra").mkdir()
    (artifact / "extra" / "vocab.json").write_text("[]")
    assert "extra/vocab.json" in read_tree(local_hub.pull("alice/pets", local_hub.push(artifact, "alice/pets").sha))


def test_second_push_is_a_new_revision_and_the_old_one_stays(
    local_hub: LocalHub, tmp_path: Path, make_artifact: Callable[..., Path], read_tree: ReadTree
) -> None:
    v1 = make_artifact(tmp_path / "v1")
    (v1 / "extra.txt").write_text("only in v1")
    first = local_hub.push(v1, "alice/pets")
    before = read_tree(local_hub.pull("alice/pets", first.sha))
    v2 = make_artifact(tmp_path / "v2", version=2)
    second = local_hub.push(v2, "alice/pets", commit_message="second head")
    assert second.sha != first.sha
    assert read_tree(local_hub.pull("alice/pets")) == read_tree(v2)
    assert read_tree(local_hub.pull("alice/pets", first.sha)) == before == read_tree(v1)
    assert [r.sha for r in local_hub.list_revisions("alice/pets")] == [second.sha, first.sha]
    assert local_hub.list_branches("alice/pets") == {"main": second.sha}


def test_pushing_the_same_files_returns_the_current_revision(local_hub: LocalHub, artifact: Path) -> None:
    first = local_hub.push(artifact, "alice/pets")
    again = local_hub.push(artifact, "alice/pets", commit_message="nothing changed")
    assert again == first
    assert len(local_hub.list_revisions("alice/pets")) == 1


def test_branches_are_independent(local_hub: LocalHub, tmp_path: Path, make_artifact: Callable[..., Path]) -> None:
    main = local_hub.push(make_artifact(tmp_path / "a"), "alice/pets")
    dev = local_hub.push(make_artifact(tmp_path / "b", version=2), "alice/pets", branch="dev")
    assert local_hub.list_branches("alice/pets") == {"dev": dev.sha, "main": main.sha}
    assert local_hub.pull("alice/pets", "dev").name == dev.sha
    assert local_hub.pull("alice/pets").name == main.sha


def _interrupted_push(local_hub: LocalHub, folder: Path) -> None:
    # A dangling link sorted between readable files: links are refused before anything is written.
    (folder / "c-unreadable.bin").symlink_to(folder / "does-not-exist")
    (folder / "z-last.txt").write_text("never reached")
    with pytest.raises(HubError, match="Nothing was committed or published") as info:
        local_hub.push(folder, "alice/pets")
    assert isinstance(info.value, GraftzooError) and "c-unreadable.bin" in str(info.value)


def _leftovers(repo: Path) -> list[str]:
    """Temporary files and folders left in the repo (its lock file is not one)."""
    return sorted(p.name for p in repo.iterdir() if p.name.startswith(".") and p.name != ".lock") if repo.is_dir() else []


def test_interrupted_first_push_leaves_nothing(local_hub: LocalHub, artifact: Path) -> None:
    _interrupted_push(local_hub, artifact)
    repo = local_hub.root / "alice" / "pets"
    assert _leftovers(repo) == []
    assert not (repo / "revisions").is_dir() or not any((repo / "revisions").iterdir())
    assert not (repo / "refs" / "main").exists()
    assert local_hub.list_repos() == []
    with pytest.raises(RepoNotFoundError):
        local_hub.pull("alice/pets")


def test_interrupted_push_leaves_main_and_revisions_unchanged(
    local_hub: LocalHub, tmp_path: Path, make_artifact: Callable[..., Path], read_tree: ReadTree
) -> None:
    first = local_hub.push(make_artifact(tmp_path / "v1"), "alice/pets")
    _interrupted_push(local_hub, make_artifact(tmp_path / "v2", version=2))
    repo = local_hub.root / "alice" / "pets"
    assert [p.name for p in (repo / "revisions").iterdir()] == [first.sha]
    assert [p.name for p in (repo / "commits").iterdir()] == [f"{first.sha}.json"]
    assert (repo / "refs" / "main").read_text() == first.sha
    assert _leftovers(repo) == []
    assert read_tree(local_hub.pull("alice/pets")) == read_tree(tmp_path / "v1")


def test_missing_repo_lists_the_repos_there(local_hub: LocalHub, artifact: Path) -> None:
    with pytest.raises(RepoNotFoundError, match="local hub is empty"):
        local_hub.pull("alice/pets")
    local_hub.push(artifact, "alice/pets")
    with pytest.raises(RepoNotFoundError, match=r"alice/pets\..*Check the repo id") as info:
        local_hub.pull("alice/cats")
    assert isinstance(info.value, LookupError)
    with pytest.raises(RepoNotFoundError):
        local_hub.list_revisions("bob/pets")


def test_missing_revision_lists_branches_and_revisions(local_hub: LocalHub, artifact: Path) -> None:
    sha = local_hub.push(artifact, "alice/pets").sha
    for wrong in ("dev", "f" * 40, sha[:3], "not a sha!"):
        with pytest.raises(RevisionNotFoundError, match=rf"main -> {sha[:7]}.*{sha[:7]}"):
            local_hub.pull("alice/pets", wrong)


def test_ambiguous_sha_prefix_is_an_error(local_hub: LocalHub, artifact: Path) -> None:
    local_hub.push(artifact, "alice/pets")
    revisions = local_hub.root / "alice" / "pets" / "revisions"
    for sha in ("abcd" + "1" * 36, "abcd" + "2" * 36):  # two revisions sharing a prefix, by hand
        (revisions / sha).mkdir()
    with pytest.raises(RevisionNotFoundError, match="ambiguous"):
        local_hub.pull("alice/pets", "abcd")
    with pytest.raises(HubError, match=f"abcd{'1' * 8} .* altered"):  # resolved uniquely, but made by hand: no commit
        local_hub.pull("alice/pets", "abcd1")


def test_bad_inputs_are_reported(local_hub: LocalHub, tmp_path: Path, artifact: Path) -> None:
    with pytest.raises(HubError, match="not a folder"):
        local_hub.push(tmp_path / "missing", "alice/pets")
    (tmp_path / "empty").mkdir()
    with pytest.raises(HubError, match="empty"):
        local_hub.push(tmp_path / "empty", "alice/pets")
    with pytest.raises(HubError, match="branch name"):
        local_hub.push(artifact, "alice/pets", branch="../main")
    with pytest.raises(GraftzooError, match="namespace/name"):
        local_hub.push(artifact, "pets")


def test_default_root_follows_graftzoo_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFTZOO_HOME", str(tmp_path / "home"))
    assert LocalHub().root == tmp_path / "home" / "hub"
    monkeypatch.delenv("GRAFTZOO_HOME")
    assert LocalHub().root == Path("~/.cache/graftzoo/hub").expanduser()
