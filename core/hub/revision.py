"""A pushed (or listed) revision of a repo on a hub."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Revision:
    """One immutable revision: `sha` (40 hex), where it lives (`url`), and its commit message."""

    hub: str
    repo_id: str
    sha: str
    url: str
    message: str = ""
    date: str = ""

    @property
    def ref(self) -> str:
        """A reference that pulls exactly this revision back, e.g. `hf://ns/name@<sha>`."""
        return f"{self.hub}://{self.repo_id}@{self.sha}"

    def __str__(self) -> str:
        return self.ref
