"""The local hub: a folder laid out like Hub repos, with immutable revisions and branch refs.

Layout under the root (default `$GRAFTZOO_HOME/hub`, GRAFTZOO_HOME defaulting to `~/.cache/graftzoo`)::

    <ns>/<name>/revisions/<sha>/...   the files of one revision (read-only, never changed)
    <ns>/<name>/commits/<sha>.json    parent, message, date and file digests of that revision
    <ns>/<name>/refs/<branch>         the sha the branch points to

A push copies the folder's regular files (a link is refused, never followed) into a temporary
`.push-<owner>-…` folder inside the repo; then, holding the repo's lock (`.lock`, fcntl.flock), it
writes the commit, moves the folder into place with `os.replace` and moves the branch with a temp
file + `os.replace`. A push that fails midway leaves no revision behind and the branch unchanged; a
push that returns is in its branch's history; leftovers of a killed push are deleted by the next
push once their process is gone. Pushing exactly the files the branch already points to makes no
new revision and returns the current one (as the Hugging Face Hub does).

A pull never follows a link out of the hub and checks every file of the revision against the
sizes and sha256 its commit recorded (remembered while a file is unchanged); an altered revision
is a HubError. docs/artifacts.md lists these guarantees.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from graftzoo.artifacts.atomic import owned_temp_dir, remove_stale, write_text_atomic
from graftzoo.hashing import copy_and_hash, sha256_file
from graftzoo.home import graftzoo_home
from graftzoo.hub.errors import HubError, RepoNotFoundError, RevisionNotFoundError
from graftzoo.hub.folder import folder_files
from graftzoo.hub.lock import file_lock
from graftzoo.hub.refs import validate_repo_id
from graftzoo.hub.revision import Revision

# always fullmatch: `$` also matches before a final newline ('main\n')
_SHA = re.compile(r"[0-9a-f]{40}")
_SHA_PREFIX = re.compile(r"[0-9a-f]{4,40}")
_BRANCH = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_PUSH_PREFIX = ".push-"
_LOCK_FILE = ".lock"
_READ_ONLY_FILE = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
_READ_ONLY_DIR = _READ_ONLY_FILE | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH


def default_root() -> Path:
    """`$GRAFTZOO_HOME/hub`, with GRAFTZOO_HOME defaulting to `~/.cache/graftzoo`."""
    return graftzoo_home() / "hub"


class LocalHub:
    """A hub in a local folder; satisfies the `Hub` protocol (push, pull, list_revisions)."""

    kind = "local"

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_root()

    def push(
        self,
        folder: str | os.PathLike[str],
        repo_id: str,
        commit_message: str | None = None,
        branch: str = "main",
    ) -> Revision:
        """Publish the files of `folder` as a new revision of `repo_id` and move `branch` to it.

        Links are refused (see `folder_files`). The files are copied first, then, under the repo's
        lock, the commit is written, the revision moved into place and the branch moved: a push that
        returns is in the branch's history, and concurrent pushes queue rather than overwrite.
        """
        validate_repo_id(repo_id)
        _check_branch(branch)
        files = folder_files(folder)
        repo = self._repo_dir(repo_id)
        for sub in ("revisions", "commits", "refs"):
            self._check_confined(repo / sub, repo_id)  # before creating anything: a link may lead outside
            (repo / sub).mkdir(parents=True, exist_ok=True)
        remove_stale(repo, _PUSH_PREFIX)
        tmp = owned_temp_dir(repo, _PUSH_PREFIX)
        message = commit_message or f"Push {Path(folder).resolve().name}"
        try:
            entries = _copy_files(files, tmp)
            _make_read_only(tmp)
            with file_lock(repo / _LOCK_FILE, f"local://{repo_id}"):
                sha = _publish(repo, tmp, entries, branch, message)
        except OSError as exc:
            raise HubError(
                f"Push of {str(folder)!r} to local://{repo_id} failed ({exc}); nothing was published and "
                f"{branch!r} is unchanged. Fix the folder (every file must be readable) and push again."
            ) from exc
        finally:
            _remove_tree(tmp)  # gone already once published
        return self._revision(repo_id, repo, sha)

    def pull(self, repo_id: str, revision: str | None = None) -> Path:
        """The read-only folder of a revision: a branch name, a full sha or a unique sha prefix.

        The revision is checked against its commit record first: a link anywhere in it, a file
        added, missing or changed since the push is a HubError, never returned.
        """
        repo = self._existing_repo(repo_id)
        sha = self._resolve(repo_id, repo, revision or "main")
        self._verify(repo_id, repo, sha)
        return repo / "revisions" / sha

    def list_revisions(self, repo_id: str) -> list[Revision]:
        """Every revision of `repo_id`, newest first."""
        repo = self._existing_repo(repo_id)
        revisions = [self._revision(repo_id, repo, sha) for sha in _revision_shas(repo)]
        return sorted(revisions, key=lambda r: (r.date, r.sha), reverse=True)

    def list_branches(self, repo_id: str) -> dict[str, str]:
        """Branch name -> sha for `repo_id`."""
        repo = self._existing_repo(repo_id)
        refs = repo / "refs"
        names = sorted(p.name for p in refs.iterdir() if _BRANCH.fullmatch(p.name)) if refs.is_dir() else []
        return {name: sha for name in names if (sha := _read_ref(repo, name))}

    def list_repos(self) -> list[str]:
        """Every `ns/name` in this hub."""
        if not self.root.is_dir():
            return []
        return sorted(
            f"{repo.parent.name}/{repo.name}" for repo in self.root.glob("*/*")
            if not (repo.is_symlink() or repo.parent.is_symlink()) and _revision_shas(repo)
        )

    # -- helpers ---------------------------------------------------------------------------------

    def _repo_dir(self, repo_id: str) -> Path:
        namespace, name = validate_repo_id(repo_id).split("/")
        return self.root / namespace / name

    def _check_confined(self, path: Path, repo_id: str) -> None:
        """`path` (under the root) must be reached without any link: nothing leads out of the hub."""
        expected = self.root.resolve() / path.relative_to(self.root)
        if os.path.realpath(path) != str(expected):
            raise HubError(
                f"{path} in local://{repo_id} is, or lies behind, a link to {os.path.realpath(path)}: the local hub "
                f"at {self.root} has been altered. Nothing outside the hub is read or written; remove the link "
                "(or the repo folder) and push again."
            )

    def _verify(self, repo_id: str, repo: Path, sha: str) -> None:
        """The revision's files must be exactly those its commit recorded (paths, sizes, sha256), no links."""
        folder = repo / "revisions" / sha
        self._check_confined(folder, repo_id)
        commit = _read_commit(repo, sha)
        entries = commit.get("files")
        record = {key: commit.get(key) for key in ("parent", "branch", "message", "date", "tree")}
        problem = None
        if not isinstance(entries, list) or _commit_sha(record) != sha or _digest(entries) != record["tree"]:
            problem = f"its commit record commits/{sha}.json is missing or does not match the sha"
        else:
            expected = {str(e.get("path")): e for e in entries if isinstance(e, dict)}
            found, links = _regular_files(folder)
            if links:
                problem = f"{', '.join(links[:5])} is a link or not a regular file"
            elif set(found) != set(expected):
                odd = sorted(set(found) ^ set(expected))
                problem = f"files were added or removed ({', '.join(odd[:5])})"
            else:
                changed = [
                    rel for rel, path in sorted(found.items())
                    if path.stat().st_size != expected[rel].get("size") or sha256_file(path) != expected[rel].get("sha256")
                ]
                if changed:
                    problem = f"{', '.join(changed[:5])} changed since the push (sha256 differs from the commit record)"
        if problem:
            raise HubError(
                f"Revision {sha[:12]} of local://{repo_id} was altered after it was pushed: {problem}. It is not "
                f"used. Push the head again, or delete {folder} if it is not needed."
            )

    def _existing_repo(self, repo_id: str) -> Path:
        repo = self._repo_dir(repo_id)
        self._check_confined(repo / "revisions", repo_id)
        if not _revision_shas(repo):
            repos = self.list_repos()
            known = f"Repos there: {', '.join(repos[:20])}." if repos else "The local hub is empty."
            raise RepoNotFoundError(
                f"No repo {repo_id!r} in the local hub at {self.root}. {known} Check the repo id, push one "
                "with graftzoo.hub.push_folder(folder, 'ns/name'), or set GRAFTZOO_HOME to the right place."
            )
        return repo

    def _resolve(self, repo_id: str, repo: Path, revision: str) -> str:
        if _BRANCH.fullmatch(revision) and (repo / "refs" / revision).is_file():
            return _read_ref(repo, revision) or ""
        shas = _revision_shas(repo)
        if _SHA_PREFIX.fullmatch(revision):
            matches = [sha for sha in shas if sha.startswith(revision)]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise RevisionNotFoundError(
                    f"Revision {revision!r} of local://{repo_id} is ambiguous: it starts "
                    f"{', '.join(m[:12] for m in matches)}. Give more characters of the sha."
                )
        branches = ", ".join(f"{b} -> {s[:7]}" for b, s in self.list_branches(repo_id).items()) or "none"
        recent = ", ".join(r.sha[:7] for r in self.list_revisions(repo_id)[:10]) or "none"
        raise RevisionNotFoundError(
            f"No revision {revision!r} in local://{repo_id}. Branches: {branches}. Recent revisions: {recent}. "
            "Pull a branch name, a full sha or a unique sha prefix (at least 4 characters)."
        )

    def _revision(self, repo_id: str, repo: Path, sha: str) -> Revision:
        commit = _read_commit(repo, sha)
        url = (repo / "revisions" / sha).resolve().as_uri()
        return Revision(
            hub=self.kind,
            repo_id=repo_id,
            sha=sha,
            url=url,
            message=str(commit.get("message", "")),
            date=str(commit.get("date", "")),
        )


def _publish(repo: Path, staged: Path, entries: list[dict[str, Any]], branch: str, message: str) -> str:
    """With the repo locked: commit `staged` on top of `branch` and move the branch; returns the sha.

    Files identical to the branch's head make no commit and return the head's sha.
    """
    parent = _read_ref(repo, branch)
    tree = _digest(entries)
    if parent is not None and _read_commit(repo, parent).get("tree") == tree:
        return parent
    date = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    record = {"parent": parent, "branch": branch, "message": message, "date": date, "tree": tree}
    sha = _commit_sha(record)
    commit_file = repo / "commits" / f"{sha}.json"
    write_text_atomic(commit_file, json.dumps({**record, "files": entries}, indent=1))
    try:
        os.replace(staged, repo / "revisions" / sha)
    except BaseException:
        commit_file.unlink(missing_ok=True)
        raise
    (repo / "revisions" / sha).chmod(_READ_ONLY_DIR)
    write_text_atomic(repo / "refs" / branch, sha)
    return sha


def _check_branch(branch: str) -> None:
    if not isinstance(branch, str) or not _BRANCH.fullmatch(branch):
        raise HubError(f"Invalid branch name {branch!r}: use letters, digits, '.', '_' or '-' (e.g. 'main').")


def _revision_shas(repo: Path) -> list[str]:
    """The shas of the revisions stored for a repo (none if it does not exist or no push finished).

    A link is never a revision, whatever it points to.
    """
    revisions = repo / "revisions"
    if revisions.is_symlink() or not revisions.is_dir():
        return []
    return sorted(
        p.name for p in revisions.iterdir() if _SHA.fullmatch(p.name) and stat.S_ISDIR(p.lstat().st_mode)
    )


def _read_regular(path: Path) -> str | None:
    """The text of `path` if it is a regular file (never through a link), else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, encoding="utf-8", errors="replace") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None
        return handle.read(1 << 24)


def _read_ref(repo: Path, branch: str) -> str | None:
    text = _read_regular(repo / "refs" / branch)
    sha = text.strip() if text is not None else ""
    return sha if _SHA.fullmatch(sha) else None


def _read_commit(repo: Path, sha: str) -> dict[str, Any]:
    text = _read_regular(repo / "commits" / f"{sha}.json")
    try:
        data = json.loads(text) if text is not None else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _commit_sha(record: dict[str, Any]) -> str:
    """The sha of a commit: sha1 of its parent, branch, message, date and tree, as JSON."""
    return hashlib.sha1(json.dumps(record, sort_keys=True).encode()).hexdigest()


def _regular_files(folder: Path) -> tuple[dict[str, Path], list[str]]:
    """(posix path -> path of every regular file under `folder`, entries that are links or special files)."""
    files: dict[str, Path] = {}
    odd: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath) / name
            mode = path.lstat().st_mode
            rel = path.relative_to(folder).as_posix()
            if stat.S_ISREG(mode):
                files[rel] = path
            elif not stat.S_ISDIR(mode):
                odd.append(rel)
    return files, sorted(odd)


def _copy_files(files: list[tuple[str, Path]], target: Path) -> list[dict[str, Any]]:
    """Copy each file under `target`, returning its path, size and sha256 (read once)."""
    entries = []
    for rel, source in files:
        destination = target / rel
        destination.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW)  # a file swapped for a link since it was listed
        with os.fdopen(fd, "rb") as src, open(destination, "xb") as dst:
            size, sha256 = copy_and_hash(src, dst)
        entries.append({"path": rel, "size": size, "sha256": sha256})
    return entries


def _digest(entries: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(entries, sort_keys=True).encode()).hexdigest()


def _make_read_only(folder: Path) -> None:
    """Files and sub-folders read-only; the top folder is made so once it is in place (a rename needs it writable)."""
    for path in folder.rglob("*"):
        path.chmod(_READ_ONLY_DIR if path.is_dir() else _READ_ONLY_FILE)


def _remove_tree(folder: Path) -> None:
    for path, _, _ in os.walk(folder):
        os.chmod(path, 0o700)
    shutil.rmtree(folder, ignore_errors=True)
