"""The local hub: a folder laid out like Hub repos, with immutable revisions and branch refs.

Layout under the root (default `$GRAFTZOO_HOME/hub`, GRAFTZOO_HOME defaulting to `~/.cache/graftzoo`)::

    <ns>/<name>/revisions/<sha>/...   the files of one revision (read-only, never changed)
    <ns>/<name>/commits/<sha>.json    parent, message, date and file digests of that revision
    <ns>/<name>/refs/<branch>         the sha the branch points to

A push copies the folder into a temporary folder inside the repo, moves it into place with
`os.replace`, then moves the branch with a temp file + `os.replace`: a push that fails midway
leaves no revision behind and the branch unchanged. Pushing exactly the files the branch already
points to makes no new revision and returns the current one (as the Hugging Face Hub does).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from graftzoo.hub.errors import HubError, RepoNotFoundError, RevisionNotFoundError
from graftzoo.hub.folder import folder_files
from graftzoo.hub.refs import validate_repo_id
from graftzoo.hub.revision import Revision

_SHA = re.compile(r"^[0-9a-f]{40}$")
_SHA_PREFIX = re.compile(r"^[0-9a-f]{4,40}$")
_BRANCH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_CHUNK = 1 << 20


def default_root() -> Path:
    """`$GRAFTZOO_HOME/hub`, with GRAFTZOO_HOME defaulting to `~/.cache/graftzoo`."""
    home = os.environ.get("GRAFTZOO_HOME") or "~/.cache/graftzoo"
    return Path(home).expanduser() / "hub"


class LocalHub:
    """A hub in a local folder; same method names as `HfHub` (push, pull, list_revisions)."""

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
        """Publish the files of `folder` as a new revision of `repo_id` and move `branch` to it."""
        validate_repo_id(repo_id)
        _check_branch(branch)
        files = folder_files(folder)
        repo = self._repo_dir(repo_id)
        for sub in ("revisions", "commits", "refs"):
            (repo / sub).mkdir(parents=True, exist_ok=True)
        parent = _read_ref(repo, branch)
        tmp = Path(tempfile.mkdtemp(prefix=".push-", dir=repo))
        commit_file: Path | None = None
        published = False
        try:
            entries = _copy_files(files, tmp)
            tree = _digest(entries)
            if parent is not None and _read_commit(repo, parent).get("tree") == tree:
                return self._revision(repo_id, repo, parent)
            message = commit_message or f"Push {Path(folder).resolve().name}"
            date = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            record = {"parent": parent, "branch": branch, "message": message, "date": date, "tree": tree}
            sha = hashlib.sha1(json.dumps(record, sort_keys=True).encode()).hexdigest()
            commit_file = repo / "commits" / f"{sha}.json"
            _write_atomic(commit_file, json.dumps({**record, "files": entries}, indent=1))
            _make_read_only(tmp)
            os.replace(tmp, repo / "revisions" / sha)
            published = True
        except OSError as exc:
            raise HubError(
                f"Push of {str(folder)!r} to local://{repo_id} failed ({exc}); nothing was published and "
                f"{branch!r} is unchanged. Fix the folder (every file must be readable) and push again."
            ) from exc
        finally:
            if not published:
                shutil.rmtree(tmp, ignore_errors=True)
                if commit_file is not None:
                    commit_file.unlink(missing_ok=True)
        if _read_ref(repo, branch) != parent:
            raise HubError(
                f"{branch!r} of local://{repo_id} moved while pushing (another push?); revision {sha} was "
                "stored but the branch was left alone. Pull the branch, check it, and push again."
            )
        _write_atomic(repo / "refs" / branch, sha)
        return self._revision(repo_id, repo, sha)

    def pull(self, repo_id: str, revision: str | None = None) -> Path:
        """The read-only folder of a revision: a branch name, a full sha or a unique sha prefix."""
        repo = self._existing_repo(repo_id)
        return repo / "revisions" / self._resolve(repo_id, repo, revision or "main")

    def list_revisions(self, repo_id: str) -> list[Revision]:
        """Every revision of `repo_id`, newest first."""
        repo = self._existing_repo(repo_id)
        revisions = [self._revision(repo_id, repo, sha) for sha in _revision_shas(repo)]
        return sorted(revisions, key=lambda r: (r.date, r.sha), reverse=True)

    def list_branches(self, repo_id: str) -> dict[str, str]:
        """Branch name -> sha for `repo_id`."""
        repo = self._existing_repo(repo_id)
        refs = repo / "refs"
        names = sorted(p.name for p in refs.iterdir() if _BRANCH.match(p.name)) if refs.is_dir() else []
        return {name: sha for name in names if (sha := _read_ref(repo, name))}

    def list_repos(self) -> list[str]:
        """Every `ns/name` in this hub."""
        if not self.root.is_dir():
            return []
        return sorted(f"{repo.parent.name}/{repo.name}" for repo in self.root.glob("*/*") if _revision_shas(repo))

    # -- helpers ---------------------------------------------------------------------------------

    def _repo_dir(self, repo_id: str) -> Path:
        namespace, name = validate_repo_id(repo_id).split("/")
        return self.root / namespace / name

    def _existing_repo(self, repo_id: str) -> Path:
        repo = self._repo_dir(repo_id)
        if not _revision_shas(repo):
            repos = self.list_repos()
            known = f"Repos there: {', '.join(repos[:20])}." if repos else "The local hub is empty."
            raise RepoNotFoundError(
                f"No repo {repo_id!r} in the local hub at {self.root}. {known} Check the repo id, push one "
                "with graftzoo.hub.push_folder(folder, 'ns/name'), or set GRAFTZOO_HOME to the right place."
            )
        return repo

    def _resolve(self, repo_id: str, repo: Path, revision: str) -> str:
        if _BRANCH.match(revision) and (repo / "refs" / revision).is_file():
            return _read_ref(repo, revision) or ""
        shas = _revision_shas(repo)
        if _SHA_PREFIX.match(revision):
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


def _check_branch(branch: str) -> None:
    if not isinstance(branch, str) or not _BRANCH.match(branch):
        raise HubError(f"Invalid branch name {branch!r}: use letters, digits, '.', '_' or '-' (e.g. 'main').")


def _revision_shas(repo: Path) -> list[str]:
    """The shas of the revisions stored for a repo (none if it does not exist or no push finished)."""
    revisions = repo / "revisions"
    if not revisions.is_dir():
        return []
    return sorted(p.name for p in revisions.iterdir() if _SHA.match(p.name) and p.is_dir())


def _read_ref(repo: Path, branch: str) -> str | None:
    try:
        sha = (repo / "refs" / branch).read_text().strip()
    except FileNotFoundError:
        return None
    return sha if _SHA.match(sha) else None


def _read_commit(repo: Path, sha: str) -> dict[str, Any]:
    try:
        data = json.loads((repo / "commits" / f"{sha}.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _copy_files(files: list[tuple[str, Path]], target: Path) -> list[dict[str, Any]]:
    """Copy each file under `target`, returning its path, size and sha256 (read once)."""
    entries = []
    for rel, source in files:
        destination = target / rel
        destination.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        with open(source, "rb") as src, open(destination, "wb") as dst:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                dst.write(chunk)
                size += len(chunk)
        entries.append({"path": rel, "size": size, "sha256": digest.hexdigest()})
    return entries


def _digest(entries: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(entries, sort_keys=True).encode()).hexdigest()


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _make_read_only(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)

