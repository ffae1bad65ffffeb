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
from graftzoo.artifacts.schema import CARD_FILE, CONFIG_FILE
from graftzoo.errors import ConfigError


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
    The folder is checked first: a damaged artifact is never published. The model card's usage
    snippet gets the real reference.
    """
    from graftzoo.hub import parse_ref, push_folder

    ref = parse_ref(repo_id if "://" in repo_id or hub is None else f"{hub}://{repo_id}")
    if hub is not None and ref.hub != hub:
        raise ConfigError(f"{repo_id!r} names the {ref.hub!r} hub but hub={hub!r} was given: drop one")
    name = ref.repo_id.split("/", 1)[1]
    with tempfile.TemporaryDirectory(prefix="graftzoo-push-") as tmp:
        staged = Path(tmp) / name
        if isinstance(folder_or_model, (str, os.PathLike)):
            check_artifact(Path(folder_or_model))
            shutil.copytree(folder_or_model, staged, copy_function=shutil.copyfile)
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

    Without `to` the folder lives in the local hub or the HF cache: read it, do not write in it.
    A damaged download is removed from the HF cache and reported as an ArtifactError.
    """
    with located(ref) as folder:
        check_artifact(folder)
        if to is None:
            return folder
        with atomic_folder(to, lambda d: (d / CONFIG_FILE).is_file()) as tmp:
            for path in sorted(folder.iterdir()):
                if path.is_file():
                    shutil.copyfile(path, tmp / path.name)
                elif path.is_dir():
                    shutil.copytree(path, tmp / path.name, copy_function=shutil.copyfile)
        return Path(to)


def _put_reference(card: Path, reference: str) -> None:
    if card.is_file():
        text = card.read_text(encoding="utf-8")
        if REPO_REF in text:
            card.write_text(text.replace(REPO_REF, reference), encoding="utf-8")
