"""The `[data]` sections vision contributes to `graftzoo train` (registered as `[[data]]` in the manifest).

Each factory takes the config's `[data]` table (without `kind`), the per-process batch size and the
seed, checks every key, and returns `ImageDataLoaders`.
"""

from __future__ import annotations

from typing import Any

from graftzoo.sdk import check_section
from graftzoo_vision.data.loaders import ImageDataLoaders

# key -> (accepted Python types, what to write in the error)
_COMMON: dict[str, tuple[tuple[type, ...], str]] = {
    "path": ((str,), "a folder path (string)"),
    "size": ((int,), "the square side in pixels (int)"),
    "presize": ((int,), "item size before batch augmentation (int, >= size)"),
    "augment": ((bool,), "true or false"),
    "num_workers": ((int,), "DataLoader worker processes (int)"),
    "valid_pct": ((float, int), "fraction of items held out for validation (0 < x < 1)"),
    "convert_mode": ((str,), '"RGB" or "L"'),
}
_FOLDER = {**_COMMON, "train": ((str,), "train sub-folder name"), "valid": ((str,), "valid sub-folder name")}
_NAMES = {**_COMMON, "pattern": ((str,), "a regex whose first group is the label, searched in each file name")}


def image_folder(section: dict[str, Any], *, bs: int, seed: int) -> ImageDataLoaders:
    """`path/train/<class>/*` and `path/valid/<class>/*` (ImageNet layout), or `valid_pct` of everything."""
    opts = check_section(section, _FOLDER, "vision/image_folder", ("path",))
    return ImageDataLoaders.from_folder(opts.pop("path"), bs=bs, seed=seed, **opts)


def image_names(section: dict[str, Any], *, bs: int, seed: int) -> ImageDataLoaders:
    """Every image under `path`, labelled by the first group of `pattern` in its file name."""
    opts = check_section(section, _NAMES, "vision/image_names", ("path", "pattern"))
    return ImageDataLoaders.from_name_re(opts.pop("path"), None, opts.pop("pattern"), bs=bs, seed=seed, **opts)
