"""The `vision/image` preprocessor: image files, PIL images and tensors into the batch a body expects.

The same steps as validation in the data pipeline: open (RGB, or L for one channel), centre-crop to
the input's aspect (the largest square for square inputs), resize to the input size with
antialiasing, scale to [0, 1], normalize with the stats. Its state (`n_in`, `stats`,
`input_size`) is plain JSON and travels in every saved image head.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import torch

from graftzoo.artifacts.schema import check_input_size, check_n_in, check_stats
from graftzoo.errors import ConfigError
from graftzoo.inputs import InputSpec
from graftzoo.preprocessor import Preprocessor

Stats = dict[str, list[float]] | None


class ImagePreprocessor(Preprocessor):
    """Images for a body taking `n_in` channels, resized to `input_size` and normalized with `stats`."""

    kind = "vision/image"

    def __init__(self, n_in: int = 3, stats: Stats = None, input_size: Sequence[int] | None = None) -> None:
        self.n_in = _channels_count(n_in)
        self.stats = _checked_stats(stats, self.n_in)
        self.input_size = _checked_size(input_size)

    @classmethod
    def for_model(cls, model: Any) -> ImagePreprocessor:
        """The body's pretrained stats and the arch's input size, at the body's channels."""
        body = model.body
        stats = body.stats
        size = list(body.spec.input_size[1:])
        return cls(body.n_in, {"mean": list(stats[0]), "std": list(stats[1])} if stats else None, [body.n_in, *size])

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ImagePreprocessor:
        unknown = sorted(set(state) - {"n_in", "stats", "input_size"})
        if unknown:
            raise ConfigError(f"unknown keys {unknown} in a vision/image preprocessor state")
        return cls(state.get("n_in", 3), state.get("stats"), state.get("input_size"))

    def state(self) -> dict[str, Any]:
        return {"n_in": self.n_in, "stats": self.stats, "input_size": self.input_size}

    def input_spec(self) -> InputSpec:
        return InputSpec.image(self.n_in)

    def is_single(self, item: Any) -> bool:
        """One item (a path, a PIL image, a (C, H, W) tensor, an (H, W[, C]) array) rather than a batch of them."""
        if isinstance(item, torch.Tensor):
            return item.dim() == 3
        if _is_array(item):
            return item.ndim in (2, 3)
        return isinstance(item, (str, os.PathLike)) or _is_pil(item)

    def batch_items(self, inputs: Any) -> tuple[bool, list[Any]]:
        if (isinstance(inputs, torch.Tensor) or _is_array(inputs)) and inputs.ndim == 4:
            return False, list(inputs)
        if not self.is_single(inputs) and not (isinstance(inputs, (list, tuple)) and inputs):
            raise ConfigError(
                "predict takes image paths, PIL images, image tensors ((C, H, W) or (B, C, H, W)) or numpy "
                f"arrays (H, W), (H, W, C) or a batch of them, got {type(inputs).__name__}"
            )
        return super().batch_items(inputs)

    def encode(self, items: Sequence[Any]) -> tuple[torch.Tensor, ...]:
        """A float32 (B, C, H, W) batch of `items`, resized and normalized."""
        size = (self.input_size[1], self.input_size[2]) if self.input_size is not None and len(self.input_size) == 3 else None
        batch = torch.stack([_item(x, size, self.n_in) for x in items])
        return (_normalize(batch, self.stats),)


def _channels_count(n_in: Any) -> int:
    if (why := check_n_in(n_in)) is not None:
        raise ConfigError(f"n_in must be {why}, got {n_in!r}")
    return int(n_in)


def _checked_stats(stats: Any, n_in: int) -> Stats:
    """{'mean': [...], 'std': [...]} of finite numbers, positive stds, one per channel (or RGB on gray)."""
    if isinstance(stats, (tuple, list)) and len(stats) == 2:
        stats = {"mean": [float(m) for m in stats[0]], "std": [float(s) for s in stats[1]]}
    if (why := check_stats(stats)) is not None:
        raise ConfigError(f"stats must be {why}")
    if stats is not None and len(stats["mean"]) not in (n_in, 3):
        raise ConfigError(f"stats have {len(stats['mean'])} channels for images of {n_in}; give one mean and std per channel")
    return None if stats is None else {"mean": [float(m) for m in stats["mean"]], "std": [float(s) for s in stats["std"]]}


def _checked_size(size: Any) -> list[int] | None:
    size = list(size) if isinstance(size, tuple) else size
    if (why := check_input_size(size)) is not None:
        raise ConfigError(f"input_size must be {why}, got {size!r}")
    return None if size is None else [int(d) for d in size]


def _item(item: Any, size: tuple[int, int] | None, n_in: int) -> torch.Tensor:
    from torchvision.transforms.v2 import functional as F

    if _is_array(item):
        item = from_array(item)
    if isinstance(item, torch.Tensor):
        image: Any = _channels(item, n_in)
    else:
        image = _open(item, n_in, size)
    if size is not None:
        image_h, image_w = F.get_size(image)
        top, left, height, width = _crop_box(image_h, image_w, size)
        if (height, width) != size or (top, left) != (0, 0):
            image = F.resized_crop(image, top, left, height, width, list(size), antialias=True)
    tensor = image if isinstance(image, torch.Tensor) else F.pil_to_tensor(image)
    return F.to_dtype(tensor, torch.float32, scale=True) if not tensor.is_floating_point() else tensor.float()


def _open(item: Any, n_in: int, size: tuple[int, int] | None) -> Any:
    """A PIL image in the model's mode, opened as the data pipeline opens its items."""
    from graftzoo_vision.data.items import open_image

    mode = {1: "L", 3: "RGB"}.get(n_in)
    if mode is None:
        raise ConfigError(f"a model with {n_in} input channels predicts from tensors only, not from image files")
    return open_image(item, mode, max(size) if size is not None else None)


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


def _is_array(item: Any) -> bool:
    return type(item).__module__ == "numpy" and type(item).__name__ == "ndarray"


def from_array(array: Any) -> Any:
    """A numpy image as the pipeline takes it: uint8 (H, W) or (H, W, 1|3|4) -> a PIL image (as a
    file of the same pixels would open); float (C, H, W) or (H, W, C) in [0, 1] -> a (C, H, W) tensor.

    A float layout that reads both ways (e.g. 3x5x3) is an error, as is any other dtype.
    """
    from PIL import Image

    kind = array.dtype.kind
    if kind == "u" and array.dtype.itemsize == 1:
        if array.ndim == 3 and array.shape[2] == 1:
            array = array[:, :, 0]
        if array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4)):
            return Image.fromarray(array.copy())  # L, RGB or RGBA from the shape
        raise ConfigError(
            f"a uint8 image array must be (H, W) or (H, W, C) with C 1, 3 or 4, got shape {tuple(array.shape)}; "
            "pass a list of arrays for a batch"
        )
    if kind != "f":
        raise ConfigError(f"image arrays must be uint8 (0-255) or float (0-1), got dtype {array.dtype}; convert with .astype('uint8')")
    tensor = torch.from_numpy(array.astype("float32", copy=True))
    if not bool(tensor.isfinite().all()) or tensor.numel() and (float(tensor.min()) < 0 or float(tensor.max()) > 1):
        raise ConfigError("float image arrays must hold values in [0, 1]; divide 0-255 values by 255 or pass uint8")
    if tensor.dim() == 2:
        return tensor[None]
    if tensor.dim() != 3:
        raise ConfigError(f"an image array must be (H, W), (H, W, C) or (C, H, W), got shape {tuple(array.shape)}")
    first, last = tensor.shape[0] in (1, 3), tensor.shape[2] in (1, 3)
    if first == last:
        raise ConfigError(
            f"cannot tell whether the float array of shape {tuple(array.shape)} is (C, H, W) or (H, W, C); "
            "pass a torch tensor (C, H, W) or a uint8 array (H, W, C)"
        )
    return tensor if first else tensor.permute(2, 0, 1).contiguous()
