"""One pass over the image files when the loaders are built, so a broken file stops nothing mid-training.

Each file is opened and checked the cheap way that still catches what training would hit: JPEGs
are decoded at 1/8 scale (PIL's draft mode: truncation only shows when decoding), other formats
are verified (chunks and checksums read, no pixels decoded); a file `verify` rejects is decoded in
full before it is called broken (a PNG without its end chunk still decodes). 2000 Fashion-MNIST-size
PNGs take about 0.25 s (0.12 ms each) on one core.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image

from graftzoo_vision.data.errors import DataError
from graftzoo_vision.data.sources import LabeledSplit

SHOWN = 20  # broken files named in the message; the error's `.files` holds all of them


class BadImageError(DataError):
    """Image files that cannot be read; `.files` lists every (path, reason)."""

    def __init__(self, message: str, files: list[tuple[Path, str]]) -> None:
        super().__init__(message)
        self.files = files


def image_problem(path: Path) -> str | None:
    """Why `path` cannot be read as an image, or None when it can."""
    try:
        with Image.open(path) as img:
            if img.format == "JPEG":
                img.draft(img.mode, (1, 1))
                img.load()
            else:
                img.verify()
        return None
    except Exception:  # noqa: BLE001 - any failure is reported below with the decoder's own words
        pass
    try:
        with Image.open(path) as img:
            img.load()
        return None
    except Exception as err:  # noqa: BLE001
        return f"{type(err).__name__}: {err}".strip()


def find_bad_images(files: Sequence[Path]) -> list[tuple[Path, str]]:
    """Every (file, reason) among `files` that cannot be read, in order."""
    bad: list[tuple[Path, str]] = []
    for f in files:
        problem = image_problem(Path(f))
        if problem is not None:
            bad.append((Path(f), problem))
    return bad


def describe_bad(bad: list[tuple[Path, str]], total: int) -> str:
    """A message naming every broken file (the first `SHOWN`, then a count)."""
    lines = [f"  {p}: {why}" for p, why in bad[:SHOWN]]
    if len(bad) > SHOWN:
        lines.append(f"  ... and {len(bad) - SHOWN} more (the error's .files lists all of them)")
    return f"{len(bad)} of {total} image files cannot be read:\n" + "\n".join(lines)


def drop_bad_images(
    items: list[Path], labels: torch.Tensor, bad: set[Path]
) -> tuple[list[Path], torch.Tensor]:
    """`items` and their labels without the broken files."""
    keep = [i for i, p in enumerate(items) if Path(p) not in bad]
    return [items[i] for i in keep], labels[keep]


def check_image_files(
    train: list[Path], valid: list[Path], skip_bad: bool
) -> set[Path]:
    """The broken files among `train` and `valid`; raises BadImageError listing them all unless `skip_bad`.

    With `skip_bad`, a warning names them and the caller drops them.
    """
    bad = find_bad_images([*train, *valid])
    if not bad:
        return set()
    message = describe_bad(bad, len(train) + len(valid))
    missing = sum(1 for p, _ in bad if not p.exists())
    if missing:
        message += f"\n{missing} of them do not exist: check the path, and folder=/suff= for from_df/from_csv."
    if not skip_bad:
        raise BadImageError(
            f"{message}\nRemove or replace them, or pass skip_bad=True to leave them out with a warning.", bad
        )
    warnings.warn(f"{message}\nThey are left out (skip_bad=True).", stacklevel=3)
    return {p for p, _ in bad}


def without_bad_files(split: LabeledSplit, skip_bad: bool) -> LabeledSplit:
    """`split` checked in one pass over its files: an error listing every broken one, or them left out."""
    train, valid = split.train_items, split.valid_items
    if isinstance(train, torch.Tensor) or isinstance(valid, torch.Tensor):
        return split
    if not all(isinstance(p, (str, Path)) for p in [*train, *valid]):
        return split  # in-memory images: nothing to read
    bad = check_image_files(train, valid, skip_bad)
    if not bad:
        return split
    train, train_labels = drop_bad_images(train, split.train_labels, bad)
    valid, valid_labels = drop_bad_images(valid, split.valid_labels, bad)
    if not train or not valid:
        raise DataError("no readable image is left in the train or valid set after leaving out the broken files.")
    return LabeledSplit(train, train_labels, valid, valid_labels, split.vocab, split.kind)
