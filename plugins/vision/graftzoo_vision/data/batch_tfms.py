"""The batch-level pipeline: to float, augment (train) or centre-resize (valid), normalize."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torchvision.transforms.v2 import functional as F

from graftzoo_vision.data.augment import Augment
from graftzoo_vision.data.errors import ConfigError

Stats = tuple[tuple[float, ...], tuple[float, ...]]
IMAGENET_STATS: Stats = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


def centre_resize(x: torch.Tensor, size: int | None) -> torch.Tensor:
    """Centre-crop a batch to a square and resize it to `size` (unchanged when already that size)."""
    h, w = x.shape[-2:]
    if size is None or (h == size and w == size):
        return x
    if h != w:
        x = F.center_crop(x, [min(h, w), min(h, w)])
    return F.resize(x, [size, size], antialias=True)


class BatchTransform:
    """Turns collated uint8 (or float) images into float32 model inputs, on whatever device they are."""

    def __init__(
        self, size: int | None, augment: Augment | None, gen: torch.Generator | None = None, stats: Stats | None = None
    ) -> None:
        self.size, self.augment, self.gen = size, augment, gen
        self.stats: Stats | None = None
        if stats is not None:
            self.set_stats(*stats)

    def set_stats(self, mean: Sequence[float], std: Sequence[float]) -> None:
        """Normalize with (mean, std) per channel at the end of every batch."""
        mean, std = tuple(float(m) for m in mean), tuple(float(s) for s in std)
        if len(mean) != len(std) or not mean or any(s <= 0 for s in std):
            raise ConfigError(f"mean {mean} and std {std} need one value per channel and std > 0.")
        self.stats = (mean, std)

    def with_generator(self, gen: torch.Generator) -> BatchTransform:
        """A twin that draws its randomness from `gen` (so a look at a batch leaves this one's stream alone)."""
        return BatchTransform(self.size, self.augment, gen, self.stats)

    def __call__(self, batch: Sequence[torch.Tensor], train: bool) -> tuple:
        """Transform every image element of `batch` (all but the last, the target)."""
        *inputs, target = batch
        return (*(self.images(x, train) if is_image_batch(x) else x for x in inputs), target)

    def images(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        """One (B, C, H, W) image tensor -> float32 (B, C, size, size)."""
        x = F.to_dtype(x, torch.float32, scale=True)
        if train and self.augment is not None:
            out_size = (self.size, self.size) if self.size is not None else (x.shape[-2], x.shape[-1])
            x = self.augment(x, out_size, self.gen)
        else:
            x = centre_resize(x, self.size)
        if self.stats is not None:
            x = F.normalize(x, *self._stats_for(x.shape[1]))
        return x

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        """Undo the normalization (for display), giving values in [0, 1]."""
        if self.stats is not None:
            mean, std = self._stats_for(x.shape[1])
            x = x * torch.tensor(std, device=x.device).view(-1, 1, 1) + torch.tensor(mean, device=x.device).view(
                -1, 1, 1
            )
        return x.clamp(0.0, 1.0)

    def _stats_for(self, channels: int) -> Stats:
        assert self.stats is not None
        mean, std = self.stats
        if len(mean) == channels:
            return mean, std
        if len(mean) == 3 and channels == 1:  # RGB stats on grayscale images: average them
            return (sum(mean) / 3,), (sum(std) / 3,)
        raise ConfigError(
            f"normalization stats have {len(mean)} channel(s) but the images have {channels}; "
            "pass one mean and std per channel to normalize()."
        )


def is_image_batch(x: object) -> bool:
    """A (B, C, H, W) tensor."""
    return isinstance(x, torch.Tensor) and x.ndim == 4
