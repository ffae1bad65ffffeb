"""What every vision data-loaders class shares: normalization and the batch step on the device."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import torch
from PIL import Image

from graftzoo_vision.data.errors import DataError
from graftzoo_vision.image_preprocessor import ImagePreprocessor

Stats = tuple[tuple[float, ...], tuple[float, ...]]


class BatchedLoaders:
    """Base of ImageDataLoaders, SegmentationDataLoaders and SiameseDataLoaders.

    Subclasses set `train`, `valid` (DataLoaders), `train_ds`, `convert_mode` and `_batch` (the
    batch transform: augmentation on the device, float conversion, normalization).
    """

    train: Any
    valid: Any
    train_ds: Any
    convert_mode: str | None
    _batch: Any

    @property
    def n_in(self) -> int:
        """Image channels the model receives."""
        if self.convert_mode is not None:
            return 1 if self.convert_mode == "L" else 3
        first = self.train_ds.items[0]
        return int(first.shape[-3]) if isinstance(first, torch.Tensor) else 3

    @property
    def preprocessor(self) -> ImagePreprocessor:
        """Raw images -> model inputs as validation prepares them (saved with the head, used by predict)."""
        stats = self.stats
        hw = self.input_hw()
        return ImagePreprocessor(
            self.n_in, {"mean": list(stats[0]), "std": list(stats[1])} if stats else None,
            [self.n_in, *hw] if hw else None,
        )

    def input_hw(self) -> list[int] | None:
        """(height, width) the model is trained on: `size`, else the first training item's own size."""
        size = getattr(self, "size", None)
        if isinstance(size, int):
            return [size, size]
        if isinstance(size, (tuple, list)):
            return [int(s) for s in size]
        items = getattr(self.train_ds, "items", None)
        first = items[0] if items is not None and len(items) else None
        if isinstance(first, torch.Tensor):
            return [int(first.shape[-2]), int(first.shape[-1])]
        if isinstance(first, (str, Path)):
            with Image.open(first) as img:
                return [img.height, img.width]
        return None

    @property
    def stats(self) -> Stats | None:
        """The (mean, std) normalization applied at the end of `batch_transform`, or None."""
        return self._batch.stats

    def normalize(self, mean: Sequence[float], std: Sequence[float]) -> Any:
        """Normalize images with per-channel `mean` and `std` (e.g. the body's pretrained stats)."""
        self._batch.set_stats(mean, std)
        return self

    def batch_transform(self, batch: Sequence[torch.Tensor], train: bool) -> tuple:
        """A collated batch (uint8 images..., target) on any device -> float32 model inputs, same target."""
        return self._batch(batch, train)

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        """Model inputs back to [0, 1] images (for display)."""
        return self._batch.denormalize(x)

    def one_batch(self, train: bool = True) -> tuple:
        """The first batch of the train (or valid) loader, already through `batch_transform`, on cpu."""
        try:
            batch = next(iter(self.train if train else self.valid))
        except StopIteration:
            raise DataError(f"the {'train' if train else 'valid'} set is empty; add items or lower bs.") from None
        return self.batch_transform(batch, train)
