"""Where trained-head folders are pushed to and pulled from: the local hub and the Hugging Face Hub.

    rev = push_folder("pets-head", "alice/pets")        # the local hub, branch main
    folder = pull_folder(rev.ref)                       # exactly that revision, read-only
    push_folder("pets-head", "hf://alice/pets")         # the Hugging Face Hub
"""

from __future__ import annotations

from graftzoo.hub.errors import HubAuthError, HubError, HubOfflineError, RepoNotFoundError, RevisionNotFoundError
from graftzoo.hub.front import get_hub, pull_folder, push_folder
from graftzoo.hub.hf import HfHub
from graftzoo.hub.local import LocalHub, default_root
from graftzoo.hub.protocol import Hub
from graftzoo.hub.refs import HubRef, parse_ref
from graftzoo.hub.revision import Revision

__all__ = [
    "HfHub",
    "Hub",
    "HubAuthError",
    "HubError",
    "HubOfflineError",
    "HubRef",
    "LocalHub",
    "RepoNotFoundError",
    "Revision",
    "RevisionNotFoundError",
    "default_root",
    "get_hub",
    "parse_ref",
    "pull_folder",
    "push_folder",
]
