"""Map-style datasets of image items: labelled ones for training, unlabelled ones for inference."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from torch.utils.data import Dataset, get_worker_info

from graftzoo_vision.data.errors import DataError
from graftzoo_vision.data.items import ImageItem, ItemTransform


class ImageItems(Dataset):
    """(image, target) pairs: `items` are files, PIL images or a (N, C, H, W) tensor; `labels` are the
    encoded targets (class indices, multi-hot rows or regression values), one row per item.

    Random item steps (the train crop) draw from `gen`, so a seeded generator makes them reproducible.
    """

    def __init__(
        self,
        items: Sequence[ImageItem] | torch.Tensor,
        labels: torch.Tensor,
        tfm: ItemTransform,
        gen: torch.Generator | None = None,
    ) -> None:
        if len(items) != len(labels):
            raise DataError(f"{len(items)} items but {len(labels)} labels; pass one label per item.")
        self.items, self.labels, self.tfm, self.gen = items, labels, tfm, gen

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.tfm(self.items[i], self.gen), self.labels[i]

    def reseed(self, seed: int) -> None:
        """Restart the item generator from `seed` (used in each DataLoader worker)."""
        if self.gen is not None:
            self.gen = torch.Generator().manual_seed(seed)

    def describe_item(self, i: int) -> str:
        """A short name for item `i` (its path, or its index in the tensor)."""
        item = self.items[i]
        return str(item) if isinstance(item, (str, Path)) else f"item {i} ({type(item).__name__})"


class UnlabeledItems(Dataset):
    """New items for inference: (image, dummy target 0) pairs with the valid item steps."""

    def __init__(self, items: Sequence[ImageItem] | torch.Tensor, tfm: ItemTransform) -> None:
        self.items, self.tfm = items, tfm

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.tfm(self.items[i]), torch.tensor(0)


def seed_worker(worker_id: int) -> None:
    """DataLoader `worker_init_fn`: give each worker's dataset its own seeded item generator."""
    info = get_worker_info()
    if info is not None and isinstance(info.dataset, ImageItems):
        info.dataset.reseed(torch.initial_seed() % 2**63)
