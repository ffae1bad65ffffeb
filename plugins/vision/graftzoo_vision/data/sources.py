"""Where items and labels come from: folders, file names or tensors, split into train and valid."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence, Sized
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path

import torch

from graftzoo_vision.data.errors import DataError, LabelError
from graftzoo_vision.data.files import get_image_files, resolve_files
from graftzoo_vision.data.labels import encode_labels, label_items, make_vocab, parent_label
from graftzoo_vision.data.splits import random_split

Items = list[Path] | torch.Tensor


@dataclass
class LabeledSplit:
    """Train and valid items with their class indices, and the vocab those index."""

    train_items: Items
    train_labels: torch.Tensor
    valid_items: Items
    valid_labels: torch.Tensor
    vocab: list[str]


def _take(items: Items, idx: list[int]) -> Items:
    return items[torch.tensor(idx, dtype=torch.long)] if isinstance(items, torch.Tensor) else [items[i] for i in idx]


def split_labeled(
    items: Items, labels: Sequence[str], valid_pct: float, seed: int, vocab: Sequence[str] | None
) -> LabeledSplit:
    """A seeded random split of labelled items."""
    names = make_vocab(labels, vocab)
    codes = encode_labels(labels, names)
    train_idx, valid_idx = random_split(len(labels), valid_pct, seed)
    return LabeledSplit(_take(items, train_idx), codes[train_idx], _take(items, valid_idx), codes[valid_idx], names)


def from_folder_split(
    path: str | Path, train: str, valid: str, valid_pct: float | None, seed: int, vocab: Sequence[str] | None
) -> LabeledSplit:
    """ImageNet-style `path/<train|valid>/<class>/*.jpg`, or a random split of all images under `path`."""
    root = Path(path)
    if valid_pct is not None:
        files = resolve_files(root, None)
        return split_labeled(files, [parent_label(f) for f in files], valid_pct, seed, vocab)
    for name in (train, valid):
        if not (root / name).is_dir():
            raise DataError(
                f"no folder {str(root / name)!r}: put images in {str(root / train)!r}/<class>/ and "
                f"{str(root / valid)!r}/<class>/, name your folders with train=... and valid=..., "
                "or pass valid_pct=0.2 to split every image under the path at random."
            )
    train_files, valid_files = get_image_files(root / train), get_image_files(root / valid)
    if not train_files or not valid_files:
        empty = root / (train if not train_files else valid)
        raise DataError(f"no image files under {str(empty)!r}; add images in <class>/ subfolders there.")
    train_labels = [parent_label(f) for f in train_files]
    valid_labels = [parent_label(f) for f in valid_files]
    names = make_vocab(train_labels + valid_labels, vocab)
    return LabeledSplit(
        train_files, encode_labels(train_labels, names), valid_files, encode_labels(valid_labels, names), names
    )


def from_names_split(
    path: str | Path,
    fnames: Iterable[str | Path] | None,
    label_func: Callable[[Path], str],
    valid_pct: float,
    seed: int,
    vocab: Sequence[str] | None,
) -> LabeledSplit:
    """Labels from a function of each file's path (a regex on its name, say), randomly split."""
    files = resolve_files(path, fnames)
    return split_labeled(files, label_items(files, label_func), valid_pct, seed, vocab)


def tensor_labels(
    labels: torch.Tensor | Sequence[int | str], vocab: Sequence[str] | None
) -> tuple[list[str], list[str] | None]:
    """Labels as class-name strings, and the vocab implied by integer labels (names "0", "1", ...)."""
    values = _as_list(labels)
    if values and all(isinstance(v, Integral) and not isinstance(v, bool) for v in values):
        codes = [int(v) for v in values]
        if min(codes) < 0:
            raise LabelError("integer labels must be class indices >= 0.")
        names = list(vocab) if vocab is not None else [str(i) for i in range(max(codes) + 1)]
        if max(codes) >= len(names):
            raise LabelError(
                f"label {max(codes)} is out of range for a vocab of {len(names)} classes; pass a longer vocab."
            )
        return [names[i] for i in codes], names
    return [str(v) for v in values], (list(vocab) if vocab is not None else None)


def from_tensors_split(
    images: torch.Tensor,
    labels: torch.Tensor | Sequence[int | str],
    vocab: Sequence[str] | None,
    valid_pct: float,
    seed: int,
    valid_images: torch.Tensor | None,
    valid_labels: torch.Tensor | Sequence[int | str] | None,
) -> LabeledSplit:
    """In-memory (N, C, H, W) images: split at random, or use the given valid images."""
    _check_images(images, labels, "images")
    if valid_images is None:
        names, vocab = tensor_labels(labels, vocab)
        return split_labeled(images, names, valid_pct, seed, vocab)
    if valid_labels is None:
        raise LabelError("valid_images were given without valid_labels; pass both.")
    _check_images(valid_images, valid_labels, "valid_images")
    both, vocab = tensor_labels(_as_list(labels) + _as_list(valid_labels), vocab)
    all_names = make_vocab(both, vocab)
    codes = encode_labels(both, all_names)
    return LabeledSplit(images, codes[: len(images)], valid_images, codes[len(images) :], all_names)


def _as_list(labels: torch.Tensor | Sequence[int | str]) -> list[int | str]:
    if isinstance(labels, torch.Tensor):
        if labels.is_floating_point() or labels.ndim != 1:
            raise LabelError(
                f"labels must be a 1-d integer tensor of class indices, got {labels.dtype} {tuple(labels.shape)}."
            )
        return labels.tolist()
    return list(labels)


def _check_images(images: torch.Tensor, labels: Sized, what: str) -> None:
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise DataError(f"{what} must be a (N, C, H, W) tensor, got {shape}; add a channel dim with x[:, None].")
    if len(images) != len(labels):
        raise DataError(f"{len(images)} {what} but {len(labels)} labels; pass one label per image.")
