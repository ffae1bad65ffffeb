"""`SiameseDataLoaders`: pairs of images labelled same class (1) or different classes (0).

Seed 001's semantics: every item is the first image of one pair per epoch; its partner is drawn
from the same split. Training pairs are drawn afresh each epoch, validation pairs once and kept.
Each draw makes exactly half of the pairs "same" (a partner of the item's class, itself only when
the class has no other member) and half "different". Images go through the same steps as
`ImageDataLoaders` (presize per item, then batch augmentation and normalization, each image of a
pair augmented on its own). Batches are (img1, img2, same).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, Sampler, get_worker_info

from graftzoo_vision.data.batched import BatchedLoaders
from graftzoo_vision.data.augment import Augment
from graftzoo_vision.data.batch_tfms import BatchTransform
from graftzoo_vision.data.checks import without_bad_files
from graftzoo_vision.data.collate import collate_items
from graftzoo_vision.data.errors import ConfigError, DataError
from graftzoo_vision.data.items import ImageItem, ItemTransform, check_mode, detect_mode
from graftzoo_vision.data.labels import RegexLabeller
from graftzoo_vision.data.loaders import resolve_presize
from graftzoo_vision.data.show import default_figure_path, save_batch_grid
from graftzoo_vision.data.sources import LabeledSplit, from_names_split, from_tensors_split
from graftzoo_vision.data.splits import make_generator, resolve_seed

SAME_OR_DIFFERENT = ["different", "same"]
Pair = tuple[int, int, int]


def draw_pairs(labels: torch.Tensor, gen: torch.Generator, shuffle: bool = True) -> list[Pair]:
    """One epoch of (i, j, same) keys: each item once as `i` (in random order when `shuffle`), exactly
    half of them (rounded down) paired with another item of their class, the rest with another class."""
    n = len(labels)
    by_class = {int(c): torch.nonzero(labels == c).flatten() for c in labels.unique()}
    if len(by_class) < 2:
        raise DataError("image pairs need at least two classes in each split (same and different pairs); add classes.")
    order = torch.randperm(n, generator=gen) if shuffle else torch.arange(n)
    same = torch.zeros(n, dtype=torch.bool)
    same[torch.randperm(n, generator=gen)[: n // 2]] = True
    draws = torch.rand(n, generator=gen)
    pairs: list[Pair] = []
    for i in order.tolist():
        label = int(labels[i])
        if same[i]:
            pool = by_class[label]
            pool = pool[pool != i] if len(pool) > 1 else pool
        else:
            pool = torch.nonzero(labels != label).flatten()
        pairs.append((i, int(pool[int(draws[i] * len(pool))]), int(same[i])))
    return pairs


class PairSampler(Sampler[Pair]):
    """Yields (i, j, same) keys: new pairs at each epoch (each `iter`), or one fixed draw when `fixed`."""

    def __init__(self, labels: torch.Tensor, gen: torch.Generator, fixed: bool = False) -> None:
        self.labels, self.gen, self.fixed = labels, gen, fixed
        self.pairs: list[Pair] | None = draw_pairs(labels, gen, shuffle=False) if fixed else None

    def __iter__(self) -> Iterator[Pair]:
        return iter(self.pairs if self.pairs is not None else draw_pairs(self.labels, self.gen))

    def __len__(self) -> int:
        return len(self.labels)


class PairItems(Dataset):
    """Items indexed by (i, j, same) keys -> (image i, image j, same) with the item steps of `tfm`."""

    def __init__(self, items: Sequence[ImageItem] | torch.Tensor, labels: torch.Tensor, tfm: ItemTransform,
                 gen: torch.Generator | None = None) -> None:
        if len(items) != len(labels):
            raise DataError(f"{len(items)} items but {len(labels)} labels; pass one label per item.")
        self.items, self.labels, self.tfm, self.gen = items, labels, tfm, gen

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, key: Pair) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        i, j, same = key
        return self.tfm(self.items[i], self.gen), self.tfm(self.items[j], self.gen), torch.tensor(same)


class SiameseDataLoaders(BatchedLoaders):
    """`.train` / `.valid` DataLoaders of (img1, img2, same) and the batch transform the Learner applies.

    `classes` names the items' classes; `vocab` is ["different", "same"], the pair targets. Build it
    with `from_name_re`, `from_label_func` or `from_tensors`; `**options` are this class's keywords:
    `presize`, `augment`, `num_workers`, `convert_mode` ("RGB"/"L"), `n_in` (3/1), and `skip_bad`
    (image files that cannot be read are an error listing them all, found in one pass before
    training; True leaves them out with a warning).
    """

    def __init__(self, split: LabeledSplit, *, seed: int, size: int | None = 224, presize: int | None = None,
                 augment: bool | Augment | None = True, bs: int = 64, num_workers: int = 0,
                 convert_mode: str | None = None, n_in: int | None = None, skip_bad: bool = False) -> None:
        if bs < 1:
            raise ConfigError(f"bs must be at least 1, got {bs}.")
        split = without_bad_files(split, skip_bad)
        self.seed, self.size, self.bs, self.num_workers = seed, size, bs, num_workers
        self.presize = resolve_presize(size, presize)
        self.classes: list[str] = list(split.vocab or [])
        mode = check_mode(convert_mode, n_in)
        if mode is None and not isinstance(split.train_items, torch.Tensor):
            mode = detect_mode(split.train_items)
        self.convert_mode = mode
        self.train_ds = PairItems(split.train_items, split.train_labels, ItemTransform(self.presize, True, mode),
                                  make_generator(seed, 1))
        self.valid_ds = PairItems(split.valid_items, split.valid_labels,
                                  ItemTransform(size if size is not None else self.presize, False, mode))
        aug = augment if isinstance(augment, Augment) else (Augment() if augment else None)
        self._batch = BatchTransform(size, aug, make_generator(seed, 3))
        train_sampler = PairSampler(split.train_labels, make_generator(seed, 2))
        self.valid_sampler = PairSampler(split.valid_labels, make_generator(seed + 1, 2), fixed=True)
        self.train = self._loader(self.train_ds, train_sampler, drop_last=len(self.train_ds) >= bs)
        self.valid = self._loader(self.valid_ds, self.valid_sampler, drop_last=False)

    @classmethod
    def from_label_func(cls, path: str | Path, fnames: Iterable[str | Path] | None, label_func: Callable[[Path], str],
                        valid_pct: float = 0.2, seed: int | None = None, size: int | None = 224, bs: int = 64,
                        **options: Any) -> SiameseDataLoaders:
        """Classes are `label_func(file_path)`; `fnames` None means every image under `path`."""
        seed = resolve_seed(seed)
        split = from_names_split(path, fnames, label_func, valid_pct, seed, None, y_block="category")
        return cls(split, seed=seed, size=size, bs=bs, **options)

    @classmethod
    def from_name_re(cls, path: str | Path, fnames: Iterable[str | Path] | None, pat: str, valid_pct: float = 0.2,
                     seed: int | None = None, size: int | None = 224, bs: int = 64,
                     **options: Any) -> SiameseDataLoaders:
        """Classes are the first group of regex `pat` searched in each file NAME (e.g. r'^(.+)_\\d+.jpg$')."""
        return cls.from_label_func(path, fnames, RegexLabeller(pat), valid_pct=valid_pct, seed=seed, size=size,
                                   bs=bs, **options)

    @classmethod
    def from_tensors(cls, images: torch.Tensor, labels: torch.Tensor | Sequence[int | str],
                     classes: Sequence[str] | None = None, valid_pct: float = 0.2, seed: int | None = None,
                     size: int | None = None, bs: int = 64, valid_images: torch.Tensor | None = None,
                     valid_labels: torch.Tensor | Sequence[int | str] | None = None,
                     **options: Any) -> SiameseDataLoaders:
        """In-memory uint8 (or float in [0, 1]) images (N, C, H, W) and their classes; `size` None keeps
        their own size."""
        seed = resolve_seed(seed)
        split = from_tensors_split(images, labels, classes, valid_pct, seed, valid_images, valid_labels, y_block="category")
        return cls(split, seed=seed, size=size, bs=bs, **options)

    # ---- what the Learner uses --------------------------------------------------------------------
    @property
    def vocab(self) -> list[str]:
        """Names of the pair targets: 0 "different", 1 "same"."""
        return list(SAME_OR_DIFFERENT)

    @property
    def c(self) -> int:
        """Number of pair targets (2)."""
        return len(SAME_OR_DIFFERENT)

    @property
    def valid_pairs(self) -> list[Pair]:
        """The fixed validation pairs as (i, j, same) indices into `valid_ds.items`."""
        return list(self.valid_sampler.pairs or [])

    def encode_item(self, item: tuple[ImageItem, ImageItem]) -> tuple[torch.Tensor, torch.Tensor]:
        """One pair (files, PIL images or (C, H, W) tensors) -> the two model inputs with batch dim 1."""
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise DataError("a Siamese model predicts on a pair: pass (image1, image2).")
        first, second = self.valid_ds.tfm(item[0])[None], self.valid_ds.tfm(item[1])[None]
        return self.batch_transform((first, second, torch.zeros(1, dtype=torch.long)), train=False)[:2]

    def show_batch(self, path: str | Path | None = None, max_n: int = 9, train: bool = True) -> Path:
        """Save up to `max_n` pairs of one batch side by side, titled same/different; returns the PNG's path."""
        first, second, same = self.one_batch(train)
        first, second = self.denormalize(first[:max_n]), self.denormalize(second[:max_n])
        gap = torch.ones(*first.shape[:-1], max(2, first.shape[-1] // 16))
        titles = [SAME_OR_DIFFERENT[int(s)] for s in same[:max_n]]
        out = default_figure_path("show_pairs.png") if path is None else path
        return save_batch_grid(torch.cat([first, gap, second], dim=-1).cpu(), titles, out)

    def __repr__(self) -> str:
        return (f"SiameseDataLoaders(train={len(self.train_ds)}, valid={len(self.valid_ds)}, "
                f"classes={len(self.classes)}, size={self.size}, presize={self.presize}, n_in={self.n_in}, "
                f"bs={self.bs})")

    def _loader(self, ds: Dataset, sampler: PairSampler, drop_last: bool) -> DataLoader:
        return DataLoader(ds, batch_size=self.bs, sampler=sampler, drop_last=drop_last, num_workers=self.num_workers,
                          collate_fn=collate_items, worker_init_fn=_seed_worker if self.num_workers else None)


def _seed_worker(worker_id: int) -> None:
    """DataLoader `worker_init_fn`: each worker's copy of the item generator gets its own seed."""
    info = get_worker_info()
    if info is not None and isinstance(info.dataset, PairItems) and info.dataset.gen is not None:
        info.dataset.gen = torch.Generator().manual_seed(torch.initial_seed() % 2**63)
