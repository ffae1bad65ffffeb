"""Write small synthetic image files (one colour per class, plus noise) for tests and demos."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image


def class_image(label_index: int, size: tuple[int, int], seed: int, mode: str = "RGB") -> Image.Image:
    """A (width, height) image whose colour says the class and whose noise depends on `seed`."""
    rng = np.random.default_rng(seed)
    w, h = size
    hue = np.array([(label_index * 97) % 256, (label_index * 57 + 80) % 256, (label_index * 151 + 160) % 256])
    pixels = np.clip(hue + rng.normal(0, 25, size=(h, w, 3)), 0, 255).astype(np.uint8)
    img = Image.fromarray(pixels, "RGB")
    return img if mode == "RGB" else img.convert(mode)


def write_named_images(
    folder: str | Path,
    classes: Sequence[str],
    n_per_class: int,
    sizes: Sequence[tuple[int, int]] = ((40, 30),),
    ext: str = ".jpg",
    mode: str = "RGB",
) -> list[Path]:
    """Pets-style files `folder/<class>_<i><ext>`; sizes cycle through `sizes`. Returns the paths."""
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, name in enumerate(classes):
        for i in range(n_per_class):
            path = root / f"{name}_{i}{ext}"
            class_image(k, sizes[(k + i) % len(sizes)], seed=k * 1000 + i, mode=mode).save(path)
            paths.append(path)
    return paths


def write_image_folder(
    folder: str | Path,
    classes: Sequence[str],
    n_per_class: int,
    splits: Sequence[str] = ("train", "valid"),
    sizes: Sequence[tuple[int, int]] = ((40, 30),),
    ext: str = ".png",
    mode: str = "RGB",
) -> Path:
    """ImageNet-style `folder/<split>/<class>/<i><ext>` (no split level when `splits` is empty)."""
    root = Path(folder)
    for s, split in enumerate(splits or ("",)):
        for k, name in enumerate(classes):
            sub = root / split / name
            sub.mkdir(parents=True, exist_ok=True)
            for i in range(n_per_class):
                img = class_image(k, sizes[(k + i) % len(sizes)], seed=s * 10**6 + k * 1000 + i, mode=mode)
                img.save(sub / f"{i}{ext}")
    return root
