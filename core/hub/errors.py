"""Errors of the hubs; all are GraftzooError subclasses whose message says what to do."""

from __future__ import annotations

from graftzoo.errors import GraftzooError
from graftzoo.offline import OfflineError


class HubError(GraftzooError):
    """A push or pull that failed (base class of the hub errors)."""


class RepoNotFoundError(HubError, LookupError):
    """The repo does not exist on that hub (or is private and we are not logged in)."""


class RevisionNotFoundError(HubError, LookupError):
    """The repo exists but has no such branch, tag or commit (or a sha prefix is ambiguous)."""


class HubAuthError(HubError, PermissionError):
    """The hub refused us: not logged in, no write access, or a gated repo."""


class HubOfflineError(HubError, OfflineError):
    """The hub cannot be reached (or offline mode is on) and nothing usable is cached."""
