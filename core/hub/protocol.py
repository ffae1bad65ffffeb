"""`Hub`: what every hub (the local one, the Hugging Face Hub, a plugin's) offers the front."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol, runtime_checkable

from graftzoo.hub.revision import Revision


@runtime_checkable
class Hub(Protocol):
    """A place revisions of `ns/name` repos are pushed to and pulled from.

    `push` publishes the files of a folder as a new revision (hubs add their own keywords: the
    local hub `branch`, the HF Hub `revision`, `private`, `token`); `pull` returns a local folder
    holding exactly one revision, which callers only read.
    """

    kind: str

    def push(self, folder: str | os.PathLike[str], repo_id: str, *, commit_message: str | None = None) -> Revision:
        """Publish the files of `folder` to `repo_id` and return the new (or unchanged) revision."""
        ...

    def pull(self, repo_id: str, revision: str | None = None) -> Path:
        """The local folder of `revision` (a branch, tag, or sha; None: the default branch)."""
        ...

    def list_revisions(self, repo_id: str) -> list[Revision]:
        """Revisions of `repo_id`, newest first."""
        ...
