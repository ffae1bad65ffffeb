"""The Hugging Face Hub, through the real `huggingface_hub` client (imported on first use).

The endpoint and cache come from the client's own settings (`HF_ENDPOINT`, `HF_HOME` /
`HF_HUB_CACHE`, `HF_TOKEN`), read when it is first imported. `GRAFTZOO_OFFLINE` / `HF_HUB_OFFLINE`
(read at each call) keep every call off the network, and each request waits at most
`GRAFTZOO_NET_TIMEOUT` seconds per step (see `graftzoo.offline`). A pull fetches a saved head's
files only, never the rest of the repo.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from graftzoo.artifacts.schema import CARD_FILE, CONFIG_FILE, TENSORS_FILE
from graftzoo.hub.errors import HubError
from graftzoo.hub.folder import folder_files
from graftzoo.hub.hf_client import use_timeouts
from graftzoo.hub.hf_errors import hf_errors, offline_error
from graftzoo.hub.refs import validate_repo_id, validate_revision
from graftzoo.hub.revision import Revision
from graftzoo.offline import is_offline, net_timeout

ARTIFACT_FILES = (CONFIG_FILE, TENSORS_FILE, CARD_FILE)
_GIT_ATTRIBUTES = ".gitattributes"
_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")


class HfHub:
    """Repos on a Hugging Face Hub; same method names as `LocalHub` (push, pull, list_revisions)."""

    kind = "hf"

    def __init__(self, token: str | None = None, files: tuple[str, ...] | None = ARTIFACT_FILES) -> None:
        """`files`: the names a pull downloads (default: a saved head's three files; None: the whole repo)."""
        self.token = token
        self.files = files

    def push(
        self,
        folder: str | os.PathLike[str],
        repo_id: str,
        private: bool = False,
        commit_message: str | None = None,
        token: str | None = None,
        revision: str = "main",
    ) -> Revision:
        """Create the repo if needed and make `revision` hold exactly the files of `folder`, in ONE commit.

        Files of the previous head that the folder no longer has are deleted in the same commit
        (`.gitattributes` is kept). Pushing the files the branch already holds makes no commit and
        returns the current head, as the Hub itself does. `private` only applies to a new repo;
        a branch other than `main` is created from `main` if missing.
        """
        from huggingface_hub import CommitOperation, CommitOperationAdd, CommitOperationDelete, HfApi

        validate_repo_id(repo_id)
        validate_revision(revision)
        files = folder_files(folder)
        unreadable = [rel for rel, path in files if not path.is_file()]
        if unreadable:
            raise HubError(
                f"Cannot push {str(folder)!r} to hf://{repo_id}: {', '.join(unreadable)} cannot be read (a broken "
                "link?). Nothing was committed; fix the folder and push again."
            )
        message = commit_message or f"Push {Path(folder).resolve().name} with graftzoo"
        self._online("push to", repo_id, revision)
        api = HfApi(token=token or self.token)
        with hf_errors("push to", repo_id, revision):
            api.create_repo(repo_id, private=private, exist_ok=True)
            if revision != "main":
                api.create_branch(repo_id, branch=revision, exist_ok=True)
            parent = api.repo_info(repo_id, revision=revision).sha
            remote = set(api.list_repo_files(repo_id, revision=parent))
            local = {rel for rel, _ in files}
            operations: list[CommitOperation] = [CommitOperationDelete(path) for path in sorted(remote - local - {_GIT_ATTRIBUTES})]
            operations += [CommitOperationAdd(path_in_repo=rel, path_or_fileobj=str(path)) for rel, path in files]
            # create_commit (not upload_folder): with hf_xet installed, upload_folder may split a
            # large folder into several commits; an artifact must appear all at once or not at all.
            info = api.create_commit(repo_id, operations, commit_message=message, revision=revision,
                                     parent_commit=parent)
        return Revision(hub=self.kind, repo_id=repo_id, sha=info.oid, url=info.commit_url, message=message)

    def pull(self, repo_id: str, revision: str | None = None) -> Path:
        """Download (or find in the HF cache) a revision: a branch, a tag or a commit sha.

        Only `self.files` are fetched (a saved head's files): anything else in the repo stays on
        the Hub. The folder returned lives in the HF cache: read it, never write into it.
        """
        from huggingface_hub import HfApi, snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError

        validate_repo_id(repo_id)
        if revision is not None:
            validate_revision(revision)
        patterns = list(self.files) if self.files is not None else None
        with hf_errors("pull", repo_id, revision):
            if is_offline():
                return Path(snapshot_download(repo_id, revision=revision, allow_patterns=patterns, local_files_only=True))
            use_timeouts()
            if revision is not None and _FULL_SHA.match(revision):
                # A commit never changes: use the cache without asking the Hub, and otherwise check the
                # sha with one request that fails at once (the tree listing retries when the Hub is unreachable).
                try:
                    return Path(snapshot_download(repo_id, revision=revision, allow_patterns=patterns,
                                                  local_files_only=True))
                except LocalEntryNotFoundError:
                    HfApi(token=self.token).repo_info(repo_id, revision=revision, timeout=net_timeout())
            path = snapshot_download(repo_id, revision=revision, token=self.token, allow_patterns=patterns,
                                     etag_timeout=net_timeout())
        return Path(path)

    def list_revisions(self, repo_id: str, revision: str = "main") -> list[Revision]:
        """The commits reachable from `revision` (default `main`), newest first."""
        from huggingface_hub import HfApi, constants

        validate_repo_id(repo_id)
        self._online("list the revisions of", repo_id, revision)
        api = HfApi(token=self.token)
        with hf_errors("list the revisions of", repo_id, revision):
            # one request that fails at once first: the paginated listing retries when the Hub is unreachable
            api.repo_info(repo_id, revision=revision, timeout=net_timeout())
            commits = api.list_repo_commits(repo_id, revision=revision)
        return [
            Revision(
                hub=self.kind,
                repo_id=repo_id,
                sha=commit.commit_id,
                url=f"{constants.ENDPOINT}/{repo_id}/commit/{commit.commit_id}",
                message=commit.title,
                date=commit.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            )
            for commit in commits
        ]

    def _online(self, action: str, repo_id: str, revision: str | None) -> None:
        """Refuse at once when offline; otherwise bound the client's waits (GRAFTZOO_NET_TIMEOUT)."""
        from huggingface_hub import constants

        where = f"hf://{repo_id}" + (f"@{revision}" if revision else "")
        if is_offline():
            raise offline_error(action, where, constants.ENDPOINT, True, constants.HF_HUB_CACHE)
        use_timeouts()
