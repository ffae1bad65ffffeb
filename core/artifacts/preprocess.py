"""Turning image files, PIL images and tensors into the batch a loaded head expects.

The same steps as validation in graftzoo-vision's data pipeline: open (RGB, or L for one channel),
centre-crop to the input's aspect (the largest square for square inputs), resize to the stored
input size with antialiasing, scale to [0, 1], normalize with the stored stats.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import torch

from graftzoo.errors import ConfigError

Stats = dict[str, list[float]] | None


def is_single(inputs: Any) -> bool:
    """One item (a path, a PIL image, a (C, H, W) tensor) rather than a batch of them."""
    if isinstance(inputs, torch.Tensor):
        return inputs.dim() == 3
    return isinstance(inputs, (str, os.PathLike)) or _is_pil(inputs)


def to_batch(inputs: Any, *, stats: Stats, input_size: Sequence[int] | None, n_in: int) -> torch.Tensor:
    """A float32 (B, C, H, W) batch from one item, a list of items, or a (B, C, H, W) tensor."""
    if isinstance(inputs, torch.Tensor) and inputs.dim() == 4:
        items = list(inputs)
    elif is_single(inputs):
        items = [inputs]
    elif isinstance(inputs, (list, tuple)) and inputs:
        items = list(inputs)
    else:
        raise ConfigError(
            f"predict takes image paths, PIL images or image tensors ((C, H, W) or (B, C, H, W)), got {type(inputs).__name__}"
        )
    size = tuple(input_size[1:]) if input_size is not None and len(input_size) == 3 else None
    batch = torch.stack([_item(x, size, n_in) for x in items])
    return _normalize(batch, stats)


def _item(item: Any, size: tuple[int, int] | None, n_in: int) -> torch.Tensor:
    from torchvision.transforms.v2 import functional as F

    if isinstance(item, torch.Tensor):
        image: Any = _channels(item, n_in)
    else:
        image = _open(item, n_in, size)
    if size is not None:
        top, left, height, width = _crop_box(*F.get_size(image), size)
        if (height, width) != size or (top, left) != (0, 0):
            image = F.resized_crop(image, top, left, height, width, list(size), antialias=True)
    tensor = image if isinstance(image, torch.Tensor) else F.pil_to_tensor(image)
    return F.to_dtype(tensor, torch.float32, scale=True) if not tensor.is_floating_point() else tensor.float()


def _open(item: Any, n_in: int, size: tuple[int, int] | None) -> Any:
    from PIL import Image

    mode = {1: "L", 3: "RGB"}.get(n_in)
    if mode is None:
        raise ConfigError(f"a model with {n_in} input channels predicts from tensors only, not from image files")
    if _is_pil(item):
        image = item
    else:
        try:
            image = Image.open(item)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot open {str(item)!r} as an image ({exc}); pass an image file, a PIL image or a tensor") from None
        if size is not None:
            image.draft(mode, (max(size), max(size)))  # JPEG: decode at a reduced scale, never below size
    return image if image.mode == mode else image.convert(mode)


def _channels(x: torch.Tensor, n_in: int) -> torch.Tensor:
    if x.dim() != 3:
        raise ConfigError(f"an image tensor must be (C, H, W) or a batch (B, C, H, W), got shape {tuple(x.shape)}")
    if x.shape[0] == n_in:
        return x
    if x.shape[0] == 1:
        return x.expand(n_in, *x.shape[1:])
    raise ConfigError(f"the image tensor has {x.shape[0]} channels but the model takes {n_in}")


def _crop_box(height: int, width: int, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """(top, left, height, width) of the largest centred crop with the aspect ratio of `size`."""
    target_h, target_w = size
    if width * target_h > height * target_w:  # too wide
        crop_h, crop_w = height, max(1, round(height * target_w / target_h))
    else:
        crop_h, crop_w = max(1, round(width * target_h / target_w)), width
    return (height - crop_h) // 2, (width - crop_w) // 2, crop_h, crop_w


def _normalize(batch: torch.Tensor, stats: Stats) -> torch.Tensor:
    if not stats:
        return batch
    mean, std = list(stats["mean"]), list(stats["std"])
    channels = batch.shape[1]
    if len(mean) == 3 and channels == 1:  # RGB stats on grayscale input: average them, as training does
        mean, std = [sum(mean) / 3], [sum(std) / 3]
    if len(mean) != channels:
        raise ConfigError(f"the stored stats have {len(mean)} channels but the inputs have {channels}")
    view = (1, channels, 1, 1)
    return (batch - torch.tensor(mean).view(view)) / torch.tensor(std).view(view)


def _is_pil(item: Any) -> bool:
    return type(item).__module__.startswith("PIL.")
