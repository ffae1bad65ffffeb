"""`ImageDataLoaders`: train and valid DataLoaders of images, with presizing and a batch transform."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from graftzoo_vision.data.augment import Augment
from graftzoo_vision.data.batched import BatchedLoaders
from graftzoo_vision.data.batch_tfms import BatchTransform
from graftzoo_vision.data.checks import without_bad_files
from graftzoo_vision.data.collate import collate_items
from graftzoo_vision.data.errors import ConfigError, DataError
from graftzoo_vision.data.files import get_image_files, resolve_files
from graftzoo_vision.data.frames import Column, from_df_split
from graftzoo_vision.data.items import ImageItem, ItemTransform, check_mode, detect_mode
from graftzoo_vision.data.itemsets import ImageItems, UnlabeledItems, seed_worker
from graftzoo_vision.data.labels import RegexLabeller
from graftzoo_vision.data.show import save_batch_grid
from graftzoo_vision.data.sources import (
    LabeledSplit,
    from_folder_split,
    from_names_split,
    from_tensors_split,
    split_labeled,
)
from graftzoo_vision.data.splits import make_generator, resolve_seed
from graftzoo_vision.data.summary import describe
from graftzoo_vision.data.targets import CATEGORY, MULTI, REGRESSION, TASKS


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
    `convert_mode` ("RGB"/"L"), `n_in` (3/1), `num_workers`, `device`, `skip_bad`, `check_images`.

    Targets are class indices (single-label), multi-hot rows (`y_block="multi_category"`: tags) or
    float rows (`y_block="regression"`); `task` names the task that trains on them and `vocab` the
    classes or tags (for regression: None, or the label columns' names). Image files are all checked once when the loaders are
    built: a BadImageError lists every unreadable one (`skip_bad=True`: left out with a warning;
    `check_images=False`: no check).
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
        skip_bad: bool = False,
        check_images: bool = True,
    ) -> None:
        if bs < 1:
            raise ConfigError(f"bs must be at least 1, got {bs}.")
        self.seed, self.size, self.bs, self.num_workers = seed, size, bs, num_workers
        self.presize = resolve_presize(size, presize)
        if check_images:
            split = without_bad_files(split, skip_bad)
        self.vocab: list[str] | None = list(split.vocab) if split.vocab is not None else None
        self.kind = split.kind
        self._n_targets = int(split.train_labels.shape[1]) if split.train_labels.ndim == 2 else 1
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
    # Every constructor takes size, presize, augment, bs, num_workers and the class keywords
    # (**options); `y_block` ("category", "multi_category", "regression") overrides what the
    # labels suggest (see graftzoo_vision.data.targets for the rule).
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
    def from_path_func(
        cls,
        path: str | Path,
        fnames: Iterable[str | Path] | None,
        label_func: Callable[[Path], Any],
        valid_pct: float = 0.2,
        seed: int | None = None,
        y_block: str | None = None,
        vocab: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> ImageDataLoaders:
        """Labels are `label_func(file_path)`: a class, a float (regression) or a list of tags (multi-label).

        `fnames` None means every image under `path`.
        """
        seed = resolve_seed(seed)
        return cls(from_names_split(path, fnames, label_func, valid_pct, seed, vocab, y_block), seed=seed, **kwargs)

    @classmethod
    def from_name_func(
        cls,
        path: str | Path,
        fnames: Iterable[str | Path] | None,
        label_func: Callable[[str], Any],
        valid_pct: float = 0.2,
        seed: int | None = None,
        y_block: str | None = None,
        vocab: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> ImageDataLoaders:
        """Labels are `label_func(file_name)`, the name as a string (fastai's `is_cat(x): x[0].isupper()`);
        `from_path_func` hands the whole Path."""

        def label_name(file: Path) -> Any:
            return label_func(file.name)

        return cls.from_path_func(path, fnames, label_name, valid_pct, seed, y_block, vocab, **kwargs)

    @classmethod
    def from_path_re(
        cls,
        path: str | Path,
        fnames: Iterable[str | Path] | None,
        pat: str,
        valid_pct: float = 0.2,
        seed: int | None = None,
        vocab: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> ImageDataLoaders:
        """Labels are the first group of regex `pat` searched in each file's whole PATH (written with '/')."""
        labeller = RegexLabeller(pat, whole_path=True)
        return cls.from_path_func(path, fnames, labeller, valid_pct, seed, "category", vocab, **kwargs)

    @classmethod
    def from_name_re(
        cls,
        path: str | Path,
        fnames: Iterable[str | Path] | None,
        pat: str,
        valid_pct: float = 0.2,
        seed: int | None = None,
        vocab: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> ImageDataLoaders:
        """Labels are the first group of regex `pat` searched in each file NAME (e.g. r'(.+)_\\d+.jpg$')."""
        return cls.from_path_func(path, fnames, RegexLabeller(pat), valid_pct, seed, "category", vocab, **kwargs)

    @classmethod
    def from_lists(
        cls,
        path: str | Path,
        fnames: Sequence[str | Path],
        labels: Sequence[Any],
        valid_pct: float = 0.2,
        seed: int | None = None,
        y_block: str | None = None,
        vocab: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> ImageDataLoaders:
        """`fnames[i]` (relative ones under `path`) labelled `labels[i]`: classes, floats or lists of tags."""
        fnames, labels = list(fnames), list(labels)
        if len(fnames) != len(labels):
            raise DataError(f"{len(fnames)} file names but {len(labels)} labels; pass one label per file.")
        seed = resolve_seed(seed)
        files = resolve_files(path, fnames)
        return cls(split_labeled(files, labels, valid_pct, seed, vocab, y_block), seed=seed, **kwargs)

    @classmethod
    def from_df(
        cls,
        df: Any,
        path: str | Path = ".",
        valid_pct: float = 0.2,
        seed: int | None = None,
        fn_col: Column = 0,
        folder: str | None = None,
        suff: str = "",
        label_col: Column | Sequence[Column] = 1,
        label_delim: str | None = None,
        y_block: str | None = None,
        valid_col: Column | None = None,
        vocab: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> ImageDataLoaders:
        """fastai's `from_df`: files `path/folder/<fn_col><suff>`, labels in `label_col`.

        `label_delim` splits a label column into tags (multi-label); a float column is regression;
        several label columns are tags named by the columns (0/1 flags) or regression values.
        `valid_col` (True/False per row) picks the validation rows, else a `valid_pct` random split.
        """
        seed = resolve_seed(seed)
        split = from_df_split(
            df, path, fn_col=fn_col, label_col=label_col, valid_col=valid_col, label_delim=label_delim,
            folder=folder, suff=suff, valid_pct=valid_pct, seed=seed, vocab=vocab, y_block=y_block,
        )  # fmt: skip
        return cls(split, seed=seed, **kwargs)

    @classmethod
    def from_csv(
        cls,
        path: str | Path,
        csv_fname: str | Path = "labels.csv",
        header: int | str | None = "infer",
        delimiter: str | None = None,
        **kwargs: Any,
    ) -> ImageDataLoaders:
        """fastai's `from_csv`: `from_df` on `path/csv_fname` (read by pandas); keywords as `from_df`."""
        import pandas as pd

        csv = Path(path) / csv_fname
        if not csv.is_file():
            raise DataError(f"no CSV file {str(csv)!r}; pass csv_fname= (relative to path) or use from_df.")
        sep = {} if delimiter is None else {"sep": delimiter}
        return cls.from_df(pd.read_csv(csv, header=header, **sep), path=path, **kwargs)

    @classmethod
    def from_tensors(
        cls,
        images: torch.Tensor,
        labels: torch.Tensor | Sequence[Any],
        vocab: Sequence[str] | None = None,
        valid_pct: float = 0.2,
        seed: int | None = None,
        size: int | None = None,
        augment: bool | Augment | None = True,
        bs: int = 64,
        valid_images: torch.Tensor | None = None,
        valid_labels: torch.Tensor | Sequence[Any] | None = None,
        y_block: str | None = None,
        **options: Any,
    ) -> ImageDataLoaders:
        """In-memory uint8 (or float in [0, 1]) images (N, C, H, W); `size` None keeps their own size.

        Labels: class indices or names; an (N, n_classes) 0/1 tensor (multi-label); a float tensor,
        (N,) or (N, k) (regression); or per-item lists of tags.
        """
        seed = resolve_seed(seed)
        split = from_tensors_split(images, labels, vocab, valid_pct, seed, valid_images, valid_labels, y_block)
        return cls(split, seed=seed, size=size, augment=augment, bs=bs, **options)

    # ---- what the Learner uses --------------------------------------------------------------------
    @property
    def c(self) -> int:
        """Model outputs: number of classes (or tags), or of regression values per item."""
        return self._n_targets if self.kind == REGRESSION else len(self.vocab or [])

    @property
    def task(self) -> str:
        """The registered task these targets train: core/classification, core/multilabel or core/regression."""
        return TASKS[self.kind]

    def label_text(self, target: torch.Tensor) -> str:
        """One item's target as words: its class, its tags joined by ';', or its values."""
        if self.kind == CATEGORY:
            return (self.vocab or [])[int(target)]
        if self.kind == MULTI:
            return ";".join(v for v, on in zip(self.vocab or [], target.tolist()) if on)
        return ", ".join(f"{v:.4g}" for v in target.reshape(-1).tolist())

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
        titles = [self.label_text(t) for t in target[:max_n]]
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
            f"ImageDataLoaders(train={len(self.train_ds)}, valid={len(self.valid_ds)}, c={self.c}, task={self.task}, "
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
