"""`ImageDataLoaders`: train and valid DataLoaders of images, with presizing and a batch transform."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from graftzoo_vision.data.batched import BatchedLoaders
from graftzoo_vision.data.augment import Augment
from graftzoo_vision.data.batch_tfms import BatchTransform
from graftzoo_vision.data.collate import collate_items
from graftzoo_vision.data.errors import ConfigError
from graftzoo_vision.data.files import get_image_files
from graftzoo_vision.data.items import ImageItem, ItemTransform, check_mode, detect_mode
from graftzoo_vision.data.itemsets import ImageItems, UnlabeledItems, seed_worker
from graftzoo_vision.data.labels import RegexLabeller
from graftzoo_vision.data.show import save_batch_grid
from graftzoo_vision.data.sources import (
    LabeledSplit,
    from_folder_split,
    from_names_split,
    from_tensors_split,
)
from graftzoo_vision.data.splits import make_generator, resolve_seed
from graftzoo_vision.data.summary import describe


def resolve_presize(size: int | None, presize: int | None) -> int | None:
    """The item size: `presize`, or `size` * 1.25 rounded up (None: no resizing at all)."""
    for name, value in (("size", size), ("presize", presize)):
        if value is not None and (not isinstance(value, int) or value < 1):
            raise ConfigError(f"{name} must be a positive int (pixels of the square side), got {value!r}.")
    if presize is None:
        return None if size is None else math.ceil(size * 1.25)
    if size is not None and presize < size:
        raise ConfigError(f"presize ({presize}) must be at least size ({size}); leave it None for size * 1.25.")
    return presize


def _augment(augment: bool | Augment | None) -> Augment | None:
    if isinstance(augment, Augment):
        return augment
    return Augment() if augment else None


class ImageDataLoaders(BatchedLoaders):
    """`.train` and `.valid` torch DataLoaders of uint8 images plus the batch transform the Learner applies.

    Items are presized one by one (train: random square crop, valid: centre crop); then
    `batch_transform(batch, train)` turns a whole batch, on its device, into float32 (B, C, size, size).
    Build it with a `from_*` constructor; their `**options` are this class's keywords: `presize`,
    `convert_mode` ("RGB"/"L"), `n_in` (3/1), `num_workers`, `device`.
    """

    def __init__(
        self,
        split: LabeledSplit,
        *,
        seed: int,
        size: int | None = 224,
        presize: int | None = None,
        augment: bool | Augment | None = True,
        bs: int = 64,
        num_workers: int = 0,
        convert_mode: str | None = None,
        n_in: int | None = None,
        device: str | torch.device | None = None,
    ) -> None:
        if bs < 1:
            raise ConfigError(f"bs must be at least 1, got {bs}.")
        self.seed, self.size, self.bs, self.num_workers = seed, size, bs, num_workers
        self.presize = resolve_presize(size, presize)
        self.vocab: list[str] = list(split.vocab)
        mode = check_mode(convert_mode, n_in)
        if mode is None and not isinstance(split.train_items, torch.Tensor):
            mode = detect_mode(split.train_items)
        self.convert_mode = mode
        self.device = torch.device(device) if device is not None else _default_device()
        valid_size = size if size is not None else self.presize
        self.train_ds = ImageItems(
            split.train_items, split.train_labels, ItemTransform(self.presize, True, mode), make_generator(seed, 1)
        )
        self.valid_ds = ImageItems(split.valid_items, split.valid_labels, ItemTransform(valid_size, False, mode))
        self._batch = BatchTransform(size, _augment(augment), make_generator(seed, 3))
        self.train = self._loader(self.train_ds, shuffle=True)
        self.valid = self._loader(self.valid_ds, shuffle=False)

    # ---- constructors -------------------------------------------------------------------------
    @classmethod
    def from_folder(
        cls,
        path: str | Path,
        train: str = "train",
        valid: str = "valid",
        valid_pct: float | None = None,
        seed: int | None = None,
        size: int | None = 224,
        presize: int | None = None,
        augment: bool | Augment | None = True,
        bs: int = 64,
        num_workers: int = 0,
        vocab: Sequence[str] | None = None,
        **options: Any,
    ) -> ImageDataLoaders:
        """ImageNet-style `path/train/<class>/*`, `path/valid/<class>/*`; with `valid_pct`, a random split of all."""
        seed = resolve_seed(seed)
        split = from_folder_split(path, train, valid, valid_pct, seed, vocab)
        return cls(
            split, seed=seed, size=size, presize=presize, augment=augment, bs=bs, num_workers=num_workers, **options
        )

    @classmethod
    def from_name_func(
        cls,
        path: str | Path,
        fnames: Iterable[str | Path] | None,
        label_func: Callable[[Path], str],
        valid_pct: float = 0.2,
        seed: int | None = None,
        size: int | None = 224,
        presize: int | None = None,
        augment: bool | Augment | None = True,
        bs: int = 64,
        num_workers: int = 0,
        vocab: Sequence[str] | None = None,
        **options: Any,
    ) -> ImageDataLoaders:
        """Labels are `label_func(file_path)`; `fnames` None means every image under `path`."""
        seed = resolve_seed(seed)
        split = from_names_split(path, fnames, label_func, valid_pct, seed, vocab)
        return cls(
            split, seed=seed, size=size, presize=presize, augment=augment, bs=bs, num_workers=num_workers, **options
        )

    @classmethod
    def from_name_re(
        cls,
        path: str | Path,
        fnames: Iterable[str | Path] | None,
        pat: str,
        valid_pct: float = 0.2,
        seed: int | None = None,
        size: int | None = 224,
        presize: int | None = None,
        augment: bool | Augment | None = True,
        bs: int = 64,
        num_workers: int = 0,
        vocab: Sequence[str] | None = None,
        **options: Any,
    ) -> ImageDataLoaders:
        """Labels are the first group of regex `pat` searched in each file NAME (e.g. r'(.+)_\\d+.jpg$')."""
        return cls.from_name_func(
            path, fnames, RegexLabeller(pat), valid_pct=valid_pct, seed=seed, size=size, presize=presize,
            augment=augment, bs=bs, num_workers=num_workers, vocab=vocab, **options,
        )  # fmt: skip

    @classmethod
    def from_tensors(
        cls,
        images: torch.Tensor,
        labels: torch.Tensor | Sequence[int | str],
        vocab: Sequence[str] | None = None,
        valid_pct: float = 0.2,
        seed: int | None = None,
        size: int | None = None,
        augment: bool | Augment | None = True,
        bs: int = 64,
        valid_images: torch.Tensor | None = None,
        valid_labels: torch.Tensor | Sequence[int | str] | None = None,
        **options: Any,
    ) -> ImageDataLoaders:
        """In-memory uint8 (or float in [0, 1]) images (N, C, H, W); `size` None keeps their own size."""
        seed = resolve_seed(seed)
        split = from_tensors_split(images, labels, vocab, valid_pct, seed, valid_images, valid_labels)
        return cls(split, seed=seed, size=size, augment=augment, bs=bs, **options)

    # ---- what the Learner uses --------------------------------------------------------------------
    @property
    def c(self) -> int:
        """Number of classes."""
        return len(self.vocab)

    @property
    def augment(self) -> Augment | None:
        """The batch augmentation settings (None: no augmentation)."""
        return self._batch.augment

    @property
    def loaders(self) -> tuple[DataLoader, DataLoader]:
        """(train, valid)."""
        return self.train, self.valid

    def __getitem__(self, i: int) -> DataLoader:
        return self.loaders[i]

    def batch_transform(self, batch: Sequence[torch.Tensor], train: bool, gen: torch.Generator | None = None) -> tuple:
        """Collated batch (images..., target) on any device -> float32 (B, C, size, size) images, same target.

        Random draws come from the loaders' seeded stream, or from `gen` when given.
        """
        return (self._batch if gen is None else self._batch.with_generator(gen))(batch, train)

    def encode_item(self, item: ImageItem) -> tuple[torch.Tensor]:
        """One file, PIL image or (C, H, W) tensor -> model inputs with batch dim 1 (valid transforms)."""
        x = self.valid_ds.tfm(item)
        return (self.batch_transform((x[None], torch.zeros(1, dtype=torch.long)), train=False)[0],)

    def test_dl(self, items: str | Path | Sequence[ImageItem] | torch.Tensor, bs: int | None = None) -> DataLoader:
        """A DataLoader over new items (files, a folder, PIL images or tensors) with the valid transforms.

        Batches are (images, dummy target 0); pass them through `batch_transform(batch, train=False)`.
        """
        if isinstance(items, (str, Path)):
            items = get_image_files(items)
        return self._loader(UnlabeledItems(items, self.valid_ds.tfm), shuffle=False, bs=bs)

    # ---- looking at the data ----------------------------------------------------------------------
    def show_batch(self, path: str | Path | None = None, max_n: int = 9, train: bool = True) -> Path:
        """Save a grid of up to `max_n` images of one batch with their labels as a PNG; returns its path."""
        batch = self.one_batch(train)
        images, target = batch[0], batch[-1]
        titles = [self.vocab[int(t)] for t in target[:max_n]]
        return save_batch_grid(self.denormalize(images[:max_n]).cpu(), titles, path)

    def show_results(self, learn: Any, path: str | Path | None = None, max_n: int = 9) -> Path:
        """Validation images titled target/predicted (see `graftzoo_vision.show_results`); returns the PNG's path."""
        from graftzoo_vision.show_results import show_classification_results

        return show_classification_results(self, learn, path, max_n)

    def summary(self, bs: int = 4, show: bool = True) -> str:
        """Walk one item through every step and try to collate a small batch, like fastai's summary."""
        text = describe(self, bs)
        if show:
            print(text)
        return text

    def __repr__(self) -> str:
        return (
            f"ImageDataLoaders(train={len(self.train_ds)}, valid={len(self.valid_ds)}, c={self.c}, "
            f"size={self.size}, presize={self.presize}, n_in={self.n_in}, bs={self.bs}, device={self.device})"
        )

    def _loader(self, ds: Dataset, shuffle: bool, bs: int | None = None) -> DataLoader:
        bs = bs or self.bs
        return DataLoader(
            ds,
            batch_size=bs,
            shuffle=shuffle,
            drop_last=shuffle and len(ds) >= bs,  # type: ignore[arg-type]
            num_workers=self.num_workers,
            collate_fn=collate_items,
            generator=make_generator(self.seed, 2),
            worker_init_fn=seed_worker if self.num_workers else None,
            pin_memory=self.device.type == "cuda",
        )


def _default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
