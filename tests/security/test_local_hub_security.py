"""The local hub and the folders a saved head lives in, under attack and accident (issue #14).

Confined (no link is followed out of the hub or published), immutable (a stored revision is checked
on pull and never written into), no lost pushes (concurrent pushes all land in the history, a killed
push's leftovers are cleaned), and nothing of the user's is ever deleted.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from graftzoo.errors import ArtifactError, ConfigError, GraftzooError
from graftzoo.hub import HubError, LocalHub, RevisionNotFoundError

REPO = "alice/pets"
ARTIFACT_FILES = {"graftzoo.json", "head.safetensors", "README.md"}


# -- a valid saved head, written by hand (no torch needed) -------------------------------------------

def write_head(folder: Path, n_out: int = 2) -> Path:
    """A folder holding a small but valid saved head (passes the artifact checks)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = b"\0" * (4 * n_out * 4)
    header = json.dumps({"head.0.weight": {"dtype": "F32", "shape": [n_out, 4], "data_offsets": [0, len(data)]}})
    header += " " * (-len(header) % 8)
    tensors = len(header).to_bytes(8, "little") + header.encode() + data
    (folder / "head.safetensors").write_bytes(tensors)
    config = {
        "format_version": 1, "arch": "vision/xresnet18", "body_weights": None, "body_fingerprint": None,
        "n_in": 3, "cut": None, "head": "vision/classify", "head_kwargs": {}, "n_out": n_out,
        "task": "core/classification", "classes": None, "vocab": None, "stats": None, "input_size": None,
        "metrics": {}, "versions": {}, "body_tensors": [], "created": "2026-01-01T00:00:00Z",
        "head_file": {"name": "head.safetensors", "bytes": len(tensors), "sha256": hashlib.sha256(tensors).hexdigest()},
    }
    (folder / "graftzoo.json").write_text(json.dumps(config))
    (folder / "README.md").write_text("---\nlibrary_name: graftzoo\n---\n# pets\n")
    return folder


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def writable(folder: Path) -> Path:
    """Make a stored revision writable again, as an attacker (or root) can."""
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
        elif path.is_file() and not path.is_symlink():
            path.chmod(0o644)
    return folder


@pytest.fixture
def home(graftzoo_home: Path) -> Path:
    """An empty GRAFTZOO_HOME (graftzoo.testing's fixture), so `ns/name` references go to an empty local hub."""
    return graftzoo_home


@pytest.fixture
def hub(home: Path) -> LocalHub:
    return LocalHub()


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "outside" / "id_rsa"
    path.parent.mkdir()
    path.write_text("-----BEGIN OPENSSH PRIVATE KEY----- secret")
    return path


# -- links: never followed out of the hub, never published -------------------------------------------

def test_a_revision_that_is_a_link_out_of_the_hub_is_not_served(hub: LocalHub, tmp_path: Path, secret: Path) -> None:
    hub.push(write_head(tmp_path / "head"), REPO)
    outside = write_head(tmp_path / "outside-head")
    fake = "f" * 40
    repo = hub.root / "alice" / "pets"
    (repo / "revisions" / fake).symlink_to(outside)
    (repo / "refs" / "evil").write_text(fake)
    with pytest.raises(RevisionNotFoundError):
        hub.pull(REPO, fake)
    with pytest.raises(HubError):
        hub.pull(REPO, "evil")
    assert fake not in [r.sha for r in hub.list_revisions(REPO)]


def test_a_repo_folder_that_is_a_link_is_neither_read_nor_written(hub: LocalHub, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    hub.root.mkdir(parents=True)
    (hub.root / "alice").symlink_to(outside)
    with pytest.raises(HubError, match="link"):
        hub.push(write_head(tmp_path / "head"), REPO)
    assert list(outside.iterdir()) == []


def test_a_linked_file_inside_a_revision_is_not_copied_out(home: Path, tmp_path: Path, secret: Path) -> None:
    from graftzoo.artifacts import pull_head

    revision = LocalHub().push(write_head(tmp_path / "head"), REPO)
    folder = writable(LocalHub().root / "alice" / "pets" / "revisions" / revision.sha)
    (folder / "README.md").unlink()
    (folder / "README.md").symlink_to(secret)
    with pytest.raises(GraftzooError, match="README.md"):
        pull_head(REPO, to=tmp_path / "copy")
    assert not (tmp_path / "copy").exists()


def test_push_head_never_publishes_links(home: Path, tmp_path: Path, secret: Path) -> None:
    from graftzoo.artifacts import push_head

    folder = write_head(tmp_path / "head")
    (folder / "notes.txt").symlink_to(secret)
    (folder / "ssh").symlink_to(secret.parent, target_is_directory=True)
    revision = push_head(folder, REPO)
    published = tree(LocalHub().pull(REPO, revision.sha))
    assert set(published) == ARTIFACT_FILES
    assert not any(b"PRIVATE KEY" in data for data in published.values())


def test_push_head_refuses_an_artifact_file_that_is_a_link(home: Path, tmp_path: Path, secret: Path) -> None:
    from graftzoo.artifacts import push_head

    folder = write_head(tmp_path / "head")
    (folder / "README.md").unlink()
    (folder / "README.md").symlink_to(secret)
    with pytest.raises(ArtifactError, match="README.md is a link"):
        push_head(folder, REPO)
    assert LocalHub().list_repos() == []


def test_the_hub_refuses_to_push_a_folder_with_links(hub: LocalHub, tmp_path: Path, secret: Path) -> None:
    folder = write_head(tmp_path / "head")
    (folder / "notes.txt").symlink_to(secret)
    with pytest.raises(HubError, match="notes.txt is a link"):
        hub.push(folder, REPO)
    assert hub.list_repos() == []


def test_push_head_publishes_only_the_artifact_files(home: Path, tmp_path: Path) -> None:
    from graftzoo.artifacts import push_head

    folder = write_head(tmp_path / "head")
    (folder / "train.py").write_text("API_KEY = 'x'")
    (folder / "sub").mkdir()
    (folder / "sub" / "data.bin").write_bytes(b"private data")
    revision = push_head(folder, REPO)
    assert set(tree(LocalHub().pull(REPO, revision.sha))) == ARTIFACT_FILES


# -- stored revisions are immutable: checked on pull, never written into ------------------------------

def _edit_config_same_size_same_mtime(folder: Path) -> None:
    path = folder / "graftzoo.json"
    info = path.stat()
    text = path.read_text()
    path.write_text(text.replace('"n_in": 3', '"n_in": 1'))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda f: (f / "graftzoo.json").write_text((f / "graftzoo.json").read_text() + " "), id="edit-config"),
        pytest.param(_edit_config_same_size_same_mtime, id="edit-config-same-size-and-mtime"),
        pytest.param(lambda f: (f / "extra.py").write_text("import os"), id="add-file"),
        pytest.param(lambda f: (f / "README.md").unlink(), id="remove-file"),
    ],
)
def test_a_revision_altered_after_the_push_is_refused(hub: LocalHub, tmp_path: Path, tamper: Any) -> None:
    revision = hub.push(write_head(tmp_path / "head"), REPO)
    hub.pull(REPO)  # checked once, digests remembered: an edit must still be seen
    tamper(writable(hub.root / "alice" / "pets" / "revisions" / revision.sha))
    with pytest.raises(HubError, match="altered"):
        hub.pull(REPO)
    with pytest.raises(HubError, match="altered"):
        hub.pull(REPO, revision.sha[:8])


def test_an_edited_commit_record_is_refused(hub: LocalHub, tmp_path: Path) -> None:
    revision = hub.push(write_head(tmp_path / "head"), REPO)
    folder = writable(hub.root / "alice" / "pets" / "revisions" / revision.sha)
    (folder / "README.md").write_text("rewritten")
    commit = hub.root / "alice" / "pets" / "commits" / f"{revision.sha}.json"
    record = json.loads(commit.read_text())
    for entry in record["files"]:  # the attacker updates the recorded digest too
        if entry["path"] == "README.md":
            entry.update(size=9, sha256=hashlib.sha256(b"rewritten").hexdigest())
    commit.write_text(json.dumps(record))
    with pytest.raises(HubError, match="commit record"):
        hub.pull(REPO)


def test_a_pulled_revision_is_read_only_and_never_saved_into(home: Path, tmp_path: Path) -> None:
    import graftzoo
    from graftzoo.artifacts import pull_head, save_head

    hub = LocalHub()
    first = hub.push(write_head(tmp_path / "v1"), REPO)
    hub.push(write_head(tmp_path / "v2", n_out=3), REPO, branch="dev")
    pulled = pull_head(f"{REPO}@{first.sha}")
    before = tree(pulled)
    assert not os.stat(pulled).st_mode & 0o222
    model = graftzoo.graft("vision/xresnet18", "classify", n_out=2, weights=None)
    with pytest.raises(ArtifactError, match="hub revision"):
        save_head(model, pulled)
    with pytest.raises(ArtifactError, match="hub revision"):
        pull_head(f"{REPO}@dev", to=pulled)
    assert tree(pulled) == before
    assert hub.pull(REPO, first.sha) == pulled


# -- no lost pushes: concurrent pushes all land, killed pushes leave nothing for long -----------------

PUSH_MANY = """
import json, sys
from graftzoo.hub import LocalHub
from graftzoo.hub.errors import HubError
root, repo, worker, folders = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
hub, shas, errors = LocalHub(root), [], []
for i, folder in enumerate(folders):
    try:
        shas.append(hub.push(folder, repo, commit_message=f"{worker}/{i}").sha)
    except HubError as exc:
        errors.append(str(exc))
print(json.dumps({"shas": shas, "errors": errors}))
"""


def _history(hub: LocalHub, branch: str = "main") -> list[str]:
    repo = hub.root / "alice" / "pets"
    sha: str | None = hub.list_branches(REPO)[branch]
    shas = []
    while sha:
        shas.append(sha)
        sha = json.loads((repo / "commits" / f"{sha}.json").read_text())["parent"]
    return shas


def test_concurrent_pushes_from_processes_are_all_in_the_history(tmp_path: Path) -> None:
    workers, pushes = 4, 6
    root = tmp_path / "hub"
    folders = [[write_head(tmp_path / f"w{w}-{i}") for i in range(pushes)] for w in range(workers)]
    for w, mine in enumerate(folders):
        for i, folder in enumerate(mine):
            (folder / "README.md").write_text(f"worker {w} push {i}\n")
    procs = [subprocess.Popen([sys.executable, "-c", PUSH_MANY, str(root), REPO, str(w), *map(str, mine)],
                              stdout=subprocess.PIPE, text=True) for w, mine in enumerate(folders)]
    results = [json.loads(proc.communicate(timeout=120)[0]) for proc in procs]
    returned = [sha for result in results for sha in result["shas"]]
    errors = [error for result in results for error in result["errors"]]
    history = _history(LocalHub(root))
    assert sorted(set(returned) - set(history)) == []  # no push that returned a Revision was lost
    assert errors == [] and sorted(returned) == sorted(history) and len(history) == workers * pushes


def test_a_killed_push_leaves_nothing_after_the_next_push(hub: LocalHub, tmp_path: Path) -> None:
    hub.push(write_head(tmp_path / "first"), REPO)
    repo = hub.root / "alice" / "pets"
    big = write_head(tmp_path / "big")
    for size in (32 << 20, 256 << 20):  # killed while it copies; a bigger file if it was too quick
        (big / "weights.bin").write_bytes(b"\1" * size)
        code = f"from graftzoo.hub import LocalHub; LocalHub({str(hub.root)!r}).push({str(big)!r}, {REPO!r})"
        child = subprocess.Popen([sys.executable, "-c", code])
        deadline = time.monotonic() + 60
        while not list(repo.glob(".push-*/weights.bin")) and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)
        child.kill()
        child.wait(timeout=30)
        if list(repo.glob(".push-*")):
            break
    assert list(repo.glob(".push-*")), "the push was never caught midway"
    hub.push(write_head(tmp_path / "next", n_out=3), REPO)
    assert list(repo.glob(".push-*")) == []


def test_stale_leftovers_go_and_a_live_push_is_kept(hub: LocalHub, tmp_path: Path) -> None:
    from graftzoo.artifacts.atomic import owned_temp_dir

    hub.push(write_head(tmp_path / "first"), REPO)
    repo = hub.root / "alice" / "pets"
    live = owned_temp_dir(repo, ".push-")  # this process is alive: a push in progress
    old = repo / ".push-abc123"  # an old leftover without an owner (older graftzoo)
    old.mkdir()
    os.utime(old, (time.time() - 3 * 86400,) * 2)
    recent = repo / ".push-def456"
    recent.mkdir()
    hub.push(write_head(tmp_path / "next", n_out=3), REPO)
    assert live.is_dir() and recent.is_dir()
    assert not old.exists()


def test_repo_ids_with_a_trailing_newline_are_refused(hub: LocalHub, tmp_path: Path) -> None:
    from graftzoo.hub.refs import validate_repo_id

    with pytest.raises(ConfigError):
        validate_repo_id("ns/name\n")
    with pytest.raises(ConfigError):
        hub.push(write_head(tmp_path / "head"), "ns/name\n")
    assert not hub.root.exists() or not any(hub.root.iterdir())


def test_revisions_and_branches_with_a_trailing_newline_are_refused(hub: LocalHub, tmp_path: Path) -> None:
    from graftzoo.hub.refs import validate_revision

    with pytest.raises(ConfigError):
        validate_revision("main\n")
    with pytest.raises(HubError, match="branch name"):
        hub.push(write_head(tmp_path / "head"), REPO, branch="main\n")
    hub.push(write_head(tmp_path / "head"), REPO)
    with pytest.raises(RevisionNotFoundError):
        hub.pull(REPO, "main\n")
    assert sorted(p.name for p in (hub.root / "alice" / "pets" / "refs").iterdir()) == ["main"]


# -- nothing of the user's is ever deleted ------------------------------------------------------------

def _users_folder(folder: Path) -> dict[str, bytes]:
    write_head(folder)
    (folder / "notes.md").write_text("my notes")
    (folder / "train.py").write_text("print('train')")
    (folder / "runs").mkdir()
    (folder / "runs" / "log.txt").write_text("epoch 1")
    return tree(folder)


def test_pull_to_a_folder_with_the_users_files_refuses(home: Path, tmp_path: Path) -> None:
    from graftzoo.artifacts import pull_head

    LocalHub().push(write_head(tmp_path / "head"), REPO)
    before = _users_folder(tmp_path / "mine")
    with pytest.raises(ArtifactError, match="notes.md"):
        pull_head(REPO, to=tmp_path / "mine")
    assert tree(tmp_path / "mine") == before


def test_pull_to_a_saved_head_or_an_empty_folder_works(home: Path, tmp_path: Path) -> None:
    from graftzoo.artifacts import pull_head

    LocalHub().push(write_head(tmp_path / "head", n_out=3), REPO)
    write_head(tmp_path / "old-head")
    (tmp_path / "empty").mkdir()
    for target in (tmp_path / "old-head", tmp_path / "empty"):
        assert tree(pull_head(REPO, to=target)) == tree(tmp_path / "head")


def test_save_into_a_folder_with_the_users_files_refuses(tmp_path: Path) -> None:
    import graftzoo
    from graftzoo.artifacts import save_head

    before = _users_folder(tmp_path / "mine")
    model = graftzoo.graft("vision/xresnet18", "classify", n_out=2, weights=None)
    with pytest.raises(ArtifactError, match="train.py"):
        save_head(model, tmp_path / "mine")
    assert tree(tmp_path / "mine") == before


def test_a_head_set_aside_by_a_killed_save_is_put_back(tmp_path: Path) -> None:
    from graftzoo.artifacts import pull_head

    dest = write_head(tmp_path / "pets-head")
    before = tree(dest)
    # The first of the swap's two renames, done by a process that is then killed.
    code = (
        "import os, sys; from pathlib import Path; from graftzoo.artifacts.atomic import owned_temp_dir\n"
        "dest = Path(sys.argv[1]); old = owned_temp_dir(dest.parent, f'.{dest.name}.old-')\n"
        "os.replace(dest, old / 'previous'); os.kill(os.getpid(), 9)"
    )
    subprocess.run([sys.executable, "-c", code, str(dest)], timeout=60)
    assert not dest.exists()
    assert tree(pull_head(str(dest))) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pets-head"]
