"""Where items and labels come from: folders, file names or tensors, split into train and valid."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence, Sized
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path
from typing import Any

import torch

from graftzoo_vision.data.errors import DataError, LabelError
from graftzoo_vision.data.files import get_image_files, resolve_files
from graftzoo_vision.data.labels import label_items, parent_label
from graftzoo_vision.data.splits import random_split
from graftzoo_vision.data.targets import (
    CATEGORY,
    Targets,
    check_y_block,
    encode_labels,
    make_targets,
    make_vocab,
    tensor_targets,
)

Items = list[Path] | torch.Tensor


@dataclass
class LabeledSplit:
    """Train and valid items with their encoded targets, the vocab those index and their kind.

    `kind` is "category" (int64 class indices), "multi_category" (float multi-hot) or "regression"
    (float values, `vocab` None); see `graftzoo_vision.data.targets`.
    """

    train_items: Items
    train_labels: torch.Tensor
    valid_items: Items
    valid_labels: torch.Tensor
    vocab: list[str] | None
    kind: str = CATEGORY


def _take(items: Items, idx: list[int]) -> Items:
    return items[torch.tensor(idx, dtype=torch.long)] if isinstance(items, torch.Tensor) else [items[i] for i in idx]


def split_targets(items: Items, targets: Targets, valid_idx: Sequence[int]) -> LabeledSplit:
    """Items and their encoded targets, the items at `valid_idx` for validation and the rest for training."""
    chosen = set(valid_idx)
    if not chosen or len(chosen) == len(items):
        raise DataError(
            f"{len(chosen)} of {len(items)} items are marked for validation: both train and valid need at "
            "least one item; fix the valid column or use valid_pct."
        )
    train_idx = [i for i in range(len(items)) if i not in chosen]
    valid = sorted(chosen)
    values = targets.values
    return LabeledSplit(
        _take(items, train_idx), values[train_idx], _take(items, valid), values[valid], targets.vocab, targets.kind
    )


def split_labeled(
    items: Items,
    labels: Sequence[Any],
    valid_pct: float,
    seed: int,
    vocab: Sequence[str] | None,
    y_block: str | None = None,
    label_delim: str | None = None,
) -> LabeledSplit:
    """A seeded random split of labelled items (labels raw: classes, tag lists or numbers)."""
    targets = make_targets(labels, y_block, vocab, label_delim)
    return split_targets(items, targets, random_split(len(labels), valid_pct, seed)[1])


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
    label_func: Callable[[Path], Any],
    valid_pct: float,
    seed: int,
    vocab: Sequence[str] | None,
    y_block: str | None = None,
) -> LabeledSplit:
    """Labels from a function of each file's path (a regex on its name, say), randomly split."""
    files = resolve_files(path, fnames)
    return split_labeled(files, label_items(files, label_func), valid_pct, seed, vocab, y_block)


def from_tensors_split(
    images: torch.Tensor,
    labels: torch.Tensor | Sequence[Any],
    vocab: Sequence[str] | None,
    valid_pct: float,
    seed: int,
    valid_images: torch.Tensor | None,
    valid_labels: torch.Tensor | Sequence[Any] | None,
    y_block: str | None = None,
) -> LabeledSplit:
    """In-memory (N, C, H, W) images: split at random, or use the given valid images.

    Labels are class indices or names, multi-hot (N, n_classes) 0/1 tensors, float tensors (regression),
    or per-item lists of tags / floats (see `graftzoo_vision.data.targets`).
    """
    _check_images(images, labels, "images")
    if valid_images is not None:
        if valid_labels is None:
            raise LabelError("valid_images were given without valid_labels; pass both.")
        _check_images(valid_images, valid_labels, "valid_images")
    both = labels if valid_labels is None else _concat(labels, valid_labels)
    targets = _tensor_or_list_targets(both, vocab, y_block)
    if valid_images is None:
        return split_targets(images, targets, random_split(len(images), valid_pct, seed)[1])
    n = len(images)
    values = targets.values
    return LabeledSplit(images, values[:n], valid_images, values[n:], targets.vocab, targets.kind)


def _concat(a: torch.Tensor | Sequence[Any], b: torch.Tensor | Sequence[Any]) -> torch.Tensor | list[Any]:
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return torch.cat([a, b])
    return _as_list(a) + _as_list(b)


def _tensor_or_list_targets(labels: torch.Tensor | Sequence[Any], vocab: Sequence[str] | None, y_block: str | None) -> Targets:
    if isinstance(labels, torch.Tensor):
        found = tensor_targets(labels, y_block, vocab)
        if found is not None:
            return found
    if check_y_block(y_block) not in (None, CATEGORY):
        return make_targets(_as_list(labels), y_block, vocab)
    names, vocab = tensor_labels(labels, vocab)
    if names is None:
        return make_targets(_as_list(labels), y_block, vocab)
    return make_targets(names, CATEGORY, vocab)


def tensor_labels(
    labels: torch.Tensor | Sequence[Any], vocab: Sequence[str] | None
) -> tuple[list[str] | None, list[str] | None]:
    """Integer class indices as class-name strings with the vocab they imply (names "0", "1", ...).

    (None, vocab) when the labels are not all integers (names, tags, floats: `make_targets` decides).
    """
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
    return None, (list(vocab) if vocab is not None else None)


def _as_list(labels: torch.Tensor | Sequence[Any]) -> list[Any]:
    if isinstance(labels, torch.Tensor):
        if labels.ndim != 1:
            raise LabelError(
                f"labels must be a 1-d tensor of class indices or values, or an (N, k) tensor, got {tuple(labels.shape)}."
            )
        return labels.tolist()
    return list(labels)


def _check_images(images: torch.Tensor, labels: Sized, what: str) -> None:
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise DataError(f"{what} must be a (N, C, H, W) tensor, got {shape}; add a channel dim with x[:, None].")
    if len(images) != len(labels):
        raise DataError(f"{len(images)} {what} but {len(labels)} labels; pass one label per image.")
