"""Sharing saved heads: push a folder (or a model, saved on the way) to a hub, pull one back."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from graftzoo.artifacts.atomic import atomic_folder
from graftzoo.artifacts.integrity import check_artifact
from graftzoo.artifacts.locate import located
from graftzoo.artifacts.model_card import REPO_REF
from graftzoo.artifacts.schema import CARD_FILE
from graftzoo.artifacts.target import ARTIFACT_FILES, check_target, holds_only_a_saved_head
from graftzoo.errors import ArtifactError, ConfigError


def push_head(
    folder_or_model: Any,
    repo_id: str,
    hub: str | None = None,
    private: bool = False,
    commit_message: str | None = None,
) -> Any:
    """Push a saved head (a folder, or a model/Learner saved first) and return the new `Revision`.

    `repo_id` is `ns/name` (or `hf://ns/name`, `local://ns/name`); `hub` is `"local"` (the default)
    or `"hf"`, which creates the repo if needed (`private` applies there) and pushes in one commit.
    The folder is checked first: a damaged artifact is never published. Only the artifact's own
    files are published (graftzoo.json, head.safetensors, README.md), never a link or anything else
    in the folder. The model card's usage snippet gets the real reference.
    """
    from graftzoo.hub import parse_ref, push_folder

    ref = parse_ref(repo_id if "://" in repo_id or hub is None else f"{hub}://{repo_id}")
    if hub is not None and ref.hub != hub:
        raise ConfigError(f"{repo_id!r} names the {ref.hub!r} hub but hub={hub!r} was given: drop one")
    name = ref.repo_id.split("/", 1)[1]
    with tempfile.TemporaryDirectory(prefix="graftzoo-push-") as tmp:
        staged = Path(tmp) / name
        if isinstance(folder_or_model, (str, os.PathLike)):
            source = Path(folder_or_model)
            _refuse_links(source, hf_snapshot=False)
            check_artifact(source)
            _copy_artifact_files(source, staged)
        else:
            from graftzoo.artifacts.save import save_head

            save_head(folder_or_model, staged)
        _put_reference(staged / CARD_FILE, f"hf://{ref.repo_id}" if ref.hub == "hf" else ref.repo_id)
        options: dict[str, Any] = {"commit_message": commit_message}
        if ref.hub == "hf":
            options["private"] = private
        return push_folder(staged, str(ref), **options)


def pull_head(ref: str | os.PathLike[str], to: str | os.PathLike[str] | None = None) -> Path:
    """The checked folder of a saved head; with `to`, a copy there (written all at once).

    Without `to` the folder lives in the local hub or the HF cache: read it, do not write in it
    (save_head refuses to). `to` must be new, empty, or hold exactly a saved head: a folder with
    other files is refused, never replaced. A damaged download is removed from the HF cache and
    reported as an ArtifactError.
    """
    if to is not None:
        check_target(to)
    with located(ref) as folder:
        _refuse_links(folder, hf_snapshot=folder.parent.name == "snapshots")
        check_artifact(folder)
        if to is None:
            return folder
        with atomic_folder(to, holds_only_a_saved_head) as tmp:
            _copy_artifact_files(folder, tmp)
        return Path(to)


def _refuse_links(folder: Path, hf_snapshot: bool) -> None:
    """A saved head's files must be regular files; in an HF cache snapshot, links into its own repo's blobs."""
    blobs = (folder.parent.parent / "blobs").resolve() if hf_snapshot else None
    for name in ARTIFACT_FILES:
        path = folder / name
        if not path.is_symlink():
            continue
        if blobs is not None and path.resolve().parent == blobs:
            continue
        raise ArtifactError(
            f"{path} is a link (to {os.path.realpath(path)}), not a file: a saved head is never read or published "
            "through a link, which may point anywhere. Copy the real file into the folder and try again."
        )


def _copy_artifact_files(folder: Path, target: Path) -> None:
    """Copy the saved head's files (and nothing else) of `folder` into the new folder `target`."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ARTIFACT_FILES:
        if (folder / name).is_file():
            shutil.copyfile(folder / name, target / name)


def _put_reference(card: Path, reference: str) -> None:
    if card.is_file():
        text = card.read_text(encoding="utf-8")
        if REPO_REF in text:
            card.write_text(text.replace(REPO_REF, reference), encoding="utf-8")
