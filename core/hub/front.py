"""One front for every hub: push a folder to, or pull a folder from, a reference."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from graftzoo.errors import ConfigError
from graftzoo.hub.hf import HfHub
from graftzoo.hub.local import LocalHub
from graftzoo.hub.refs import HUB_KINDS, HubRef, parse_ref
from graftzoo.hub.revision import Revision

HUBS: dict[str, type[LocalHub] | type[HfHub]] = {"local": LocalHub, "hf": HfHub}
_BRANCH_ARG = {"local": "branch", "hf": "revision"}


def get_hub(kind: str) -> LocalHub | HfHub:
    """A hub of that kind ('local' or 'hf'), configured from the environment."""
    if kind not in HUBS:
        raise ConfigError(f"Unknown hub {kind!r}: use one of {', '.join(HUB_KINDS)}.")
    return HUBS[kind]()


def push_folder(
    folder: str | os.PathLike[str], ref_or_repo: str | HubRef, hub: str | None = None, **kw: Any
) -> Revision:
    """Push `folder` to `ref_or_repo` ('ns/name', 'hf://ns/name@branch', ...); `hub` overrides a bare ref.

    A revision in the reference names the branch to push to. Extra keywords go to the hub's
    `push` (`commit_message`; for 'hf' also `private` and `token`).
    """
    ref = parse_ref(ref_or_repo)
    explicit = "://" in str(ref_or_repo)
    if hub is not None and explicit and hub != ref.hub:
        raise ConfigError(f"{ref_or_repo!r} names the {ref.hub!r} hub but hub={hub!r} was given: drop one.")
    kind = hub or ref.hub
    target = get_hub(kind)
    if ref.revision is not None:
        kw.setdefault(_BRANCH_ARG[kind], ref.revision)
    return target.push(folder, ref.repo_id, **kw)


def pull_folder(ref: str | HubRef) -> Path:
    """The local folder of the revision `ref` names ('ns/name[@rev]', 'local://…', 'hf://…')."""
    parsed = parse_ref(ref)
    return get_hub(parsed.hub).pull(parsed.repo_id, parsed.revision)
