"""Item-level steps: open an image, presize it (one crop + one resize), make a uint8 tensor."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torchvision.transforms.v2 import functional as F

from graftzoo_vision.data.errors import ConfigError, DataError

ImageItem = str | Path | Image.Image | torch.Tensor
GRAY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F", "P;L"})
MODES = ("RGB", "L")


def check_mode(convert_mode: str | None, n_in: int | None = None) -> str | None:
    """The colour mode to convert to, from `convert_mode` ("RGB"/"L") or `n_in` (3/1)."""
    by_n = {1: "L", 3: "RGB", None: None}
    if n_in not in by_n:
        raise ConfigError(f"n_in must be 1 (grayscale) or 3 (RGB), got {n_in}.")
    if convert_mode is not None and convert_mode not in MODES:
        raise ConfigError(f"convert_mode must be 'RGB' or 'L' (or None to keep the images' own), got {convert_mode!r}.")
    if convert_mode and by_n[n_in] and convert_mode != by_n[n_in]:
        raise ConfigError(f"convert_mode={convert_mode!r} and n_in={n_in} disagree; pass only one of them.")
    return convert_mode or by_n[n_in]


def detect_mode(items: Sequence[ImageItem], limit: int = 16) -> str:
    """'L' when the first `limit` items are all grayscale, else 'RGB' (reads file headers only)."""
    for item in items[:limit]:
        if isinstance(item, torch.Tensor):
            gray = item.shape[-3] == 1
        elif isinstance(item, Image.Image):
            gray = item.mode in GRAY_MODES
        else:
            with Image.open(item) as img:
                gray = img.mode in GRAY_MODES
        if not gray:
            return "RGB"
    return "L"


def open_image(item: ImageItem, convert_mode: str | None, size: int | None = None) -> Image.Image | torch.Tensor:
    """A PIL image in `convert_mode` (tensors stay tensors, with their channels converted)."""
    if isinstance(item, torch.Tensor):
        return _convert_tensor(item, convert_mode)
    if isinstance(item, Image.Image):
        img = item
    else:
        try:
            img = Image.open(item)
        except (OSError, ValueError) as err:
            raise DataError(f"cannot open {str(item)!r} as an image ({err}); remove the file or fix it.") from None
        if size is not None:
            img.draft(convert_mode or img.mode, (size, size))  # JPEG: decode at a reduced scale, never below size
    if convert_mode is not None and img.mode != convert_mode:
        return img.convert(convert_mode)
    return img


def _convert_tensor(x: torch.Tensor, convert_mode: str | None) -> torch.Tensor:
    if x.ndim != 3:
        raise DataError(f"an image tensor must be (C, H, W), got shape {tuple(x.shape)}.")
    if convert_mode == "RGB" and x.shape[0] == 1:
        return F.grayscale_to_rgb(x)
    if convert_mode == "L" and x.shape[0] == 3:
        return F.rgb_to_grayscale(x)
    return x


def square_crop_box(h: int, w: int, train: bool, gen: torch.Generator | None) -> tuple[int, int, int]:
    """(top, left, side) of the largest square: random along the long side for train, centred for valid."""
    side = min(h, w)
    slack = max(h, w) - side
    offset = int(torch.randint(0, slack + 1, (1,), generator=gen).item()) if train and slack else slack // 2
    return (offset, 0, side) if h > w else (0, offset, side)


def presize(img: Image.Image | torch.Tensor, size: int, train: bool, gen: torch.Generator | None) -> Any:
    """Crop the largest square (random for train) and resize it to `size` x `size` in one resample."""
    h, w = F.get_size(img)
    top, left, side = square_crop_box(h, w, train, gen)
    if side == size and h == w:
        return img
    return F.resized_crop(img, top, left, side, side, [size, size], antialias=True)


def to_tensor(img: Image.Image | torch.Tensor) -> torch.Tensor:
    """A (C, H, W) tensor: uint8 from a PIL image, tensors unchanged."""
    return img if isinstance(img, torch.Tensor) else F.pil_to_tensor(img)


class ItemTransform:
    """open -> presize -> to tensor, for one item; `steps` lets `summary` show each stage."""

    def __init__(self, size: int | None, train: bool, convert_mode: str | None) -> None:
        self.size, self.train, self.convert_mode = size, train, convert_mode

    def steps(self, gen: torch.Generator | None = None) -> list[tuple[str, Callable[[Any], Any]]]:
        """The named steps, in order."""
        steps: list[tuple[str, Callable[[Any], Any]]] = [
            (f"open (convert_mode={self.convert_mode!r})", lambda x: open_image(x, self.convert_mode, self.size))
        ]
        size = self.size
        if size is not None:
            how = "random" if self.train else "centre"
            steps.append(
                (f"presize ({how} square crop, resize to {size}x{size})", lambda x: presize(x, size, self.train, gen))
            )
        steps.append(("to tensor", to_tensor))
        return steps

    def __call__(self, item: ImageItem, gen: torch.Generator | None = None) -> torch.Tensor:
        img = open_image(item, self.convert_mode, self.size)
        if self.size is not None:
            img = presize(img, self.size, self.train, gen)
        return to_tensor(img)

    def __repr__(self) -> str:
        return f"ItemTransform(size={self.size}, train={self.train}, convert_mode={self.convert_mode!r})"
