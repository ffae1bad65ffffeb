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


PATTERNS = ("frame", "stripes", "dots")


def fashion_like(tags: Sequence[str] = (), brightness: float = 0.7, seed: int = 0, size: int = 28) -> np.ndarray:
    """A `size` x `size` grayscale uint8 array shaped like a Fashion-MNIST item: a garment block of
    `brightness` (0-1) on black, with noise and the patterns named in `tags` (see `PATTERNS`)."""
    rng = np.random.default_rng(seed)
    img = np.zeros((size, size))
    lo, hi = size // 5, size - size // 5
    img[lo:hi, lo + 2 : hi - 2] = brightness * 255
    if "frame" in tags:
        img[[0, -1], :], img[:, [0, -1]] = 255, 255
    if "stripes" in tags:
        img[lo:hi:4, lo + 2 : hi - 2] = 0
    if "dots" in tags:
        img[2:lo:3, 2:-2:3] = 255
    return np.clip(img + rng.normal(0, 8, img.shape), 0, 255).astype(np.uint8)


def write_fashion_csv(folder: str | Path, n: int = 24, seed: int = 0, csv_fname: str = "labels.csv") -> Path:
    """`folder/images/item_<i>.png` fashion-like files and `folder/<csv_fname>` describing them.

    Columns: `fname` (no folder, no suffix), `tags` (space-separated patterns, possibly empty),
    `brightness` (the float the image was drawn with) and `is_valid` (every fifth row True).
    Returns the CSV path.
    """
    root = Path(folder)
    (root / "images").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = ["fname,tags,brightness,is_valid"]
    for i in range(n):
        tags = [p for p in PATTERNS if rng.random() < 0.5]
        brightness = round(float(rng.uniform(0.3, 1.0)), 3)
        Image.fromarray(fashion_like(tags, brightness, seed=seed * 10**6 + i)).save(root / "images" / f"item_{i}.png")
        rows.append(f"item_{i},{' '.join(tags)},{brightness},{i % 5 == 0}")
    path = root / csv_fname
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path
