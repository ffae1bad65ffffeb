"""Where a head may be written: an empty or new folder, or one that holds exactly a saved head.

Never a folder with the user's other files (they would be replaced with it), and never a revision
pulled from a hub (local hub or HF cache): revisions are immutable, and other heads point at them.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from graftzoo.artifacts.schema import CARD_FILE, CONFIG_FILE, TENSORS_FILE
from graftzoo.errors import ArtifactError

ARTIFACT_FILES = (CONFIG_FILE, TENSORS_FILE, CARD_FILE)


def holds_only_a_saved_head(folder: Path) -> bool:
    """True when `folder` holds a `graftzoo.json` and otherwise only a saved head's files, none a link."""
    try:
        entries = {entry.name: entry.stat(follow_symlinks=False).st_mode for entry in os.scandir(folder)}
    except OSError:
        return False
    return (
        CONFIG_FILE in entries
        and set(entries) <= set(ARTIFACT_FILES)
        and all(stat.S_ISREG(mode) for mode in entries.values())
    )


def hub_revision_of(folder: Path) -> Path | None:
    """The revision folder `folder` is (or lies in), for a local-hub revision or an HF cache snapshot."""
    path = Path(os.path.realpath(folder))
    for candidate in (path, *path.parents):
        parent = candidate.parent
        if parent.name == "revisions" and (parent.parent / "commits" / f"{candidate.name}.json").is_file():
            return candidate
        if parent.name == "snapshots" and parent.parent.name.startswith("models--"):
            return candidate
    return None


def check_target(folder: str | os.PathLike[str]) -> Path:
    """`folder` as a Path if a head may be written there, else an ArtifactError saying why and what to do."""
    path = Path(folder).expanduser()
    revision = hub_revision_of(path)
    if revision is not None:
        raise ArtifactError(
            f"{path} is inside the hub revision {revision}, which must never change. Save or pull into a "
            "folder of your own (e.g. pull_head(ref, to='my-head'))."
        )
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise ArtifactError(f"{path} is a link or a file, not a folder: choose a new folder for the head.")
    if path.is_dir() and any(path.iterdir()) and not holds_only_a_saved_head(path):
        names = sorted(p.name for p in path.iterdir() if p.name not in ARTIFACT_FILES or p.is_symlink())
        raise ArtifactError(
            f"{path} is not a saved head; refusing to replace it: it holds other files ({', '.join(names[:8])}), "
            "and writing the head there would replace the whole folder. Choose a new or empty folder, or move "
            "those files away."
        )
    return path
