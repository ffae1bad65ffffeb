"""One front for every hub: push a folder to, or pull a folder from, a reference."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from graftzoo.errors import ConfigError, PluginError
from graftzoo.hub.protocol import Hub
from graftzoo.hub.refs import HubRef, parse_ref
from graftzoo.hub.revision import Revision
from graftzoo.imports import import_attr

_BRANCH_ARG = {"hf": "revision"}  # hubs take the branch to push to as `branch`, the HF client says `revision`


def get_hub(kind: str) -> Hub:
    """The registered hub serving `kind://` references ('local', 'hf', or a plugin's), configured from the environment."""
    from graftzoo.registry import current

    try:
        spec = current().by_scheme("hubs", kind)
    except PluginError as exc:
        raise ConfigError(f"Unknown hub {kind!r}: {exc}") from None
    hub = import_attr(spec.factory)()
    if not isinstance(hub, Hub):
        raise PluginError(
            f"The {kind!r} hub ({spec.factory}) is not a Hub: it needs `kind`, `push`, `pull` and `list_revisions` "
            "(see graftzoo.hub.Hub). Fix or update the plugin that registers it."
        )
    return hub


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
        kw.setdefault(_BRANCH_ARG.get(kind, "branch"), ref.revision)
    return target.push(folder, ref.repo_id, **kw)


def pull_folder(ref: str | HubRef) -> Path:
    """The local folder of the revision `ref` names ('ns/name[@rev]', 'local://…', 'hf://…')."""
    parsed = parse_ref(ref)
    return get_hub(parsed.hub).pull(parsed.repo_id, parsed.revision)
