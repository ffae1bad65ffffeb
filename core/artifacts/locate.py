"""Where a saved head is: a folder, or a revision pulled from the local hub or the Hugging Face Hub."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from graftzoo.artifacts.atomic import recover_folder
from graftzoo.errors import ArtifactError, ConfigError

HUB_SCHEMES = ("local://", "hf://")


def is_hub_ref(ref: str | os.PathLike[str]) -> bool:
    """True for `hf://…` and `local://…`, and for `ns/name[@rev]` that is not an existing folder."""
    if not isinstance(ref, str):
        return False
    if ref.startswith(HUB_SCHEMES):
        return True
    if Path(ref).expanduser().is_dir():
        return False
    from graftzoo.hub import parse_ref

    try:
        parse_ref(ref)
    except ConfigError:
        return False
    return True


def locate(ref: str | os.PathLike[str]) -> tuple[Path, str | None]:
    """(folder, hub kind or None): pulls a hub reference first; an existing folder wins over a bare ref.

    A saved head that a killed save left aside (see `atomic_folder`) is put back first.
    """
    if not isinstance(ref, str) or not ref.startswith(HUB_SCHEMES):
        _recover(Path(ref).expanduser())
    if is_hub_ref(ref):
        from graftzoo.hub import parse_ref, pull_folder

        return Path(pull_folder(str(ref))), parse_ref(str(ref)).hub
    folder = Path(ref).expanduser()
    if not folder.is_dir():
        raise ArtifactError(
            f"{str(ref)!r} is neither a folder nor a hub reference: pass the folder save_head wrote, "
            "'ns/name[@rev]' for the local hub, or 'hf://ns/name[@rev]' for the Hugging Face Hub"
        )
    return folder, None


def _recover(folder: Path) -> None:
    if not folder.is_dir():
        try:
            recover_folder(folder)
        except OSError:
            pass  # a folder we cannot write to: reported below as missing, as before


@contextmanager
def located(ref: str | os.PathLike[str]) -> Iterator[Path]:
    """The folder of `ref`; when reading it fails, a copy pulled from the HF Hub leaves the HF cache."""
    folder, hub = locate(ref)
    try:
        yield folder
    except BaseException:
        if hub == "hf":
            evict_hf_snapshot(folder)
        raise


def evict_hf_snapshot(folder: Path) -> None:
    """Delete one downloaded revision (`…/models--ns--name/snapshots/<sha>`) from the HF cache, blobs included."""
    snapshots = folder.parent
    if snapshots.name != "snapshots" or not snapshots.parent.name.startswith("models--"):
        return
    try:
        from huggingface_hub import scan_cache_dir

        cache = scan_cache_dir(snapshots.parent.parent)
        cache.delete_revisions(folder.name).execute()
    except Exception:  # best effort; fall back to removing the snapshot folder itself
        shutil.rmtree(folder, ignore_errors=True)
