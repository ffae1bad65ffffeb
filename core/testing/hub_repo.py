"""The in-memory repositories the loopback Hub serves: commits, file trees, histories, protocol errors."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

def git_oid(data: bytes) -> str:
    """The git blob sha1 of `data` (what the Hub reports as a regular file's oid and ETag)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Commit:
    sha: str
    parent: str | None
    title: str
    message: str
    date: str
    files: dict[str, bytes]


@dataclass
class Repo:
    repo_id: str
    private: bool
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    def resolve(self, revision: str) -> str | None:
        """Branch, tag or full commit sha -> sha."""
        revision = revision.removeprefix("refs/heads/")
        sha = self.branches.get(revision) or self.tags.get(revision)
        return sha or (revision if revision in self.commits else None)

    def commit(self, branch: str, files: dict[str, bytes], title: str, message: str = "") -> Commit:
        """Add a commit on top of `branch` (created if missing) and move the branch."""
        parent = self.branches.get(branch)
        seed = f"{self.repo_id}\0{parent}\0{title}\0{time.time_ns()}\0{len(self.commits)}"
        digest = hashlib.sha1(seed.encode())
        for path in sorted(files):
            digest.update(f"\0{path}\0{git_oid(files[path])}".encode())
        new = Commit(digest.hexdigest(), parent, title, message, now(), files)
        self.commits[new.sha] = new
        self.branches[branch] = new.sha
        return new


class HubProtocolError(Exception):
    """An expected error: its status, `X-Error-Code`, message, extra headers and body fields."""

    def __init__(self, status: int, code: str | None, message: str, headers: dict[str, str] | None = None,
                 body: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers, self.body = headers or {}, body or {}


def tree_listing(commit: Commit, path: str, recursive: bool) -> list[dict[str, Any]]:
    prefix = path.strip("/") + "/" if path.strip("/") else ""
    if prefix and not any(p.startswith(prefix) for p in commit.files):
        raise HubProtocolError(404, "EntryNotFound", f"Entry not found: {path}")
    entries: dict[str, dict[str, Any]] = {}
    for file_path, data in sorted(commit.files.items()):
        if not file_path.startswith(prefix):
            continue
        pieces = file_path[len(prefix):].split("/")
        for depth in range(1, len(pieces)):
            directory = prefix + "/".join(pieces[:depth])
            if recursive or depth == 1:
                entries.setdefault(directory, {"type": "directory", "oid": git_oid(directory.encode()),
                                               "path": directory})
        if recursive or len(pieces) == 1:
            entries[file_path] = {"type": "file", "oid": git_oid(data), "size": len(data), "path": file_path}
    return [entries[key] for key in sorted(entries)]


def commit_history(repo: Repo, sha: str | None) -> list[dict[str, Any]]:
    out = []
    while sha is not None:
        commit = repo.commits[sha]
        out.append({"id": commit.sha, "title": commit.title, "message": commit.message, "date": commit.date,
                    "authors": [{"user": "loopback"}]})
        sha = commit.parent
    return out
