"""Hub references: `ns/name`, `ns/name@rev`, `local://ns/name[@rev]`, `hf://ns/name[@rev]`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from graftzoo.errors import ConfigError

HUB_KINDS = ("local", "hf")
DEFAULT_HUB = "local"

_SEGMENT = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,95})"
_REPO_ID = re.compile(rf"{_SEGMENT}/{_SEGMENT}")  # always fullmatch: `$` also matches before a final newline
_REVISION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,199}")
_EXAMPLE = "'ns/name', 'ns/name@main', 'local://ns/name@3f2a9c1' or 'hf://ns/name@v1.0'"


@dataclass(frozen=True)
class HubRef:
    """A parsed reference: which hub, which repo, which revision (None: the default branch)."""

    hub: str
    repo_id: str
    revision: str | None = None

    def __str__(self) -> str:
        rev = f"@{self.revision}" if self.revision else ""
        return f"{self.hub}://{self.repo_id}{rev}"


def hub_schemes() -> list[str]:
    """The built-in hubs plus those plugins register (read from manifests, without importing them)."""
    from graftzoo.registry import current

    return sorted(set(HUB_KINDS) | set(current().schemes("hubs")))


def validate_repo_id(repo_id: str) -> str:
    """Return `repo_id` if it is `ns/name` made of safe characters, else raise ConfigError."""
    if not isinstance(repo_id, str) or not _REPO_ID.fullmatch(repo_id) or ".." in repo_id:
        raise ConfigError(
            f"Invalid repo id {repo_id!r}: use 'namespace/name' with letters, digits, '.', '_' or '-' "
            f"(e.g. 'alice/pets-head')."
        )
    return repo_id


def validate_revision(revision: str) -> str:
    """Return `revision` if it is a plausible branch, tag or sha, else raise ConfigError."""
    if not isinstance(revision, str) or not _REVISION.fullmatch(revision) or ".." in revision:
        raise ConfigError(
            f"Invalid revision {revision!r}: use a branch ('main'), a tag ('v1.0') or a commit sha."
        )
    return revision


def parse_ref(ref: str | HubRef) -> HubRef:
    """Parse a reference; a bare `ns/name[@rev]` means the local hub."""
    if isinstance(ref, HubRef):
        return ref
    if not isinstance(ref, str) or not ref.strip():
        raise ConfigError(f"Invalid hub reference {ref!r}: expected one of {_EXAMPLE}.")
    text = ref.strip()
    hub = DEFAULT_HUB
    if "://" in text:
        hub, text = text.split("://", 1)
        known = hub_schemes()
        if hub not in known:
            raise ConfigError(f"Unknown hub {hub!r} in {ref!r}: use one of {', '.join(known)} (e.g. {_EXAMPLE}).")
    repo_id, sep, revision = text.partition("@")
    try:
        validate_repo_id(repo_id)
        if sep:
            validate_revision(revision)
    except ConfigError as exc:
        raise ConfigError(f"Invalid hub reference {ref!r}: {exc} Valid references look like {_EXAMPLE}.") from None
    return HubRef(hub=hub, repo_id=repo_id, revision=revision if sep else None)
