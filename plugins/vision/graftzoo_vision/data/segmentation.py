"""`SegmentationDataLoaders`: image and mask pairs, the same random transforms applied to both.

Train items go through one torchvision.transforms.v2 pipeline called on the pair
(`tv_tensors.Image`, `tv_tensors.Mask`): v2 draws every random parameter once for both and
resamples masks with nearest interpolation, so pixels and labels stay aligned; lighting changes
touch the image only. Valid items are centre-cropped to the output's aspect and resized. Batches
are (uint8 images (B, C, H, W), int64 masks (B, H, W)); `batch_transform` makes the images float
and normalizes them, masks pass unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset, get_worker_info
from torchvision import tv_tensors
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

from graftzoo_vision.data.batched import BatchedLoaders
from graftzoo_vision.data.augment import Augment
from graftzoo_vision.data.batch_tfms import BatchTransform
from graftzoo_vision.data.checks import check_image_files
from graftzoo_vision.data.collate import collate_items
from graftzoo_vision.data.errors import ConfigError, DataError
from graftzoo_vision.data.files import resolve_files
from graftzoo_vision.data.items import ImageItem, check_mode, detect_mode, open_image, to_tensor
from graftzoo_vision.data.show import default_figure_path, save_batch_grid
from graftzoo_vision.data.splits import make_generator, random_split, resolve_seed

Size = tuple[int, int]
MaskItem = str | Path | Image.Image | torch.Tensor


def open_mask(item: MaskItem) -> torch.Tensor:
    """An int64 (H, W) mask of class indices from a file, a PIL image ('L', 'P', '1', 'I') or a tensor."""
    if isinstance(item, torch.Tensor):
        mask = item[0] if item.ndim == 3 and item.shape[0] == 1 else item
        if mask.ndim != 2 or mask.is_floating_point():
            raise DataError(f"a mask tensor must be integer class indices (H, W), got {mask.dtype} {tuple(item.shape)}")
        return mask.long()
    try:
        img = item if isinstance(item, Image.Image) else Image.open(item)
    except (OSError, ValueError) as err:
        raise DataError(f"cannot open mask {str(item)!r} ({err}); check label_func's paths.") from None
    values = np.asarray(img)
    if values.ndim != 2:
        raise DataError(
            f"mask {str(item)!r} has mode {img.mode!r}; a mask must be one channel of class indices "
            "(mode 'L' or 'P'): map its colours to indices 0..n-1 first."
        )
    return torch.from_numpy(values.astype(np.int64))


def _size(size: int | Sequence[int] | None) -> Size | None:
    if size is None:
        return None
    pair = [size, size] if isinstance(size, int) else list(size)
    if len(pair) != 2 or not all(isinstance(s, int) and s > 0 for s in pair):
        raise ConfigError(f"size must be a positive int or (height, width), got {size!r}.")
    return pair[0], pair[1]


def centre_fit(x: torch.Tensor, size: Size) -> torch.Tensor:
    """Centre-crop `x` to the aspect of `size` and resize it there (masks: nearest, through v2)."""
    h, w = x.shape[-2:]
    th, tw = size
    if (h, w) == (th, tw):
        return x
    ch, cw = (h, max(1, round(h * tw / th))) if w * th > h * tw else (max(1, round(w * th / tw)), w)
    return F.resized_crop(x, (h - ch) // 2, (w - cw) // 2, ch, cw, [th, tw], antialias=True)


def random_pipeline(size: Size, aug: Augment) -> v2.Compose:
    """fastai-like augmentation as one v2 pipeline: random resized crop, flips, rotate/zoom, lighting.

    Rotations and zooms fill uncovered pixels with 0 (image black, mask class 0); v2 has no reflection.
    """
    steps: list[Any] = [v2.RandomResizedCrop(list(size), scale=(aug.min_scale, 1.0), ratio=aug.ratio, antialias=True)]
    if aug.flip:
        steps.append(v2.RandomHorizontalFlip())
    if aug.flip_vert:
        steps.append(v2.RandomVerticalFlip())
    if aug.p_affine > 0 and (aug.max_rotate > 0 or aug.max_zoom > aug.min_zoom):
        affine = v2.RandomAffine(degrees=aug.max_rotate, scale=(aug.min_zoom, aug.max_zoom))
        steps.append(v2.RandomApply([affine], p=aug.p_affine))
    if aug.p_lighting > 0 and aug.max_lighting > 0:
        light = v2.ColorJitter(brightness=aug.max_lighting, contrast=aug.max_lighting)
        steps.append(v2.RandomApply([light], p=aug.p_lighting))
    return v2.Compose(steps)


class PairTransform:
    """open -> (train) random v2 pipeline on image and mask together, or (valid) centre crop + resize."""

    def __init__(self, size: Size | None, train: bool, convert_mode: str | None, augment: Augment | None) -> None:
        self.size, self.train, self.convert_mode, self.augment = size, train, convert_mode, augment
        self._pipelines: dict[Size, v2.Compose] = {}

    def __call__(self, item: ImageItem, mask_item: MaskItem | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        image = tv_tensors.Image(to_tensor(open_image(item, self.convert_mode)))
        mask = None if mask_item is None else tv_tensors.Mask(open_mask(mask_item))
        if mask is not None and mask.shape[-2:] != image.shape[-2:]:
            raise DataError(
                f"image {_name(item)} is {tuple(image.shape[-2:])} but its mask {_name(mask_item)} is "
                f"{tuple(mask.shape[-2:])}; a mask must have its image's height and width."
            )
        size = self.size or (int(image.shape[-2]), int(image.shape[-1]))
        if self.train and self.augment is not None:
            pipeline = self._pipelines.setdefault(size, random_pipeline(size, self.augment))
            image, mask = pipeline(image, mask) if mask is not None else (pipeline(image), None)
        else:
            image, mask = centre_fit(image, size), None if mask is None else centre_fit(mask, size)
        return image.as_subclass(torch.Tensor), None if mask is None else mask.as_subclass(torch.Tensor)


def _name(item: Any) -> str:
    return repr(str(item)) if isinstance(item, (str, Path)) else type(item).__name__


class SegmentationItems(Dataset):
    """(image, mask) pairs; random transforms are seeded from `gen`, one seed per item fetched."""

    def __init__(self, items: Sequence[ImageItem] | torch.Tensor, masks: Sequence[MaskItem] | torch.Tensor,
                 tfm: PairTransform, gen: torch.Generator | None = None) -> None:
        if len(items) != len(masks):
            raise DataError(f"{len(items)} images but {len(masks)} masks; pass one mask per image.")
        self.items, self.masks, self.tfm, self.gen = items, masks, tfm, gen

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.gen is None:
            return self.tfm(self.items[i], self.masks[i])
        seed = int(torch.randint(0, 2**62, (1,), generator=self.gen).item())
        with torch.random.fork_rng(devices=[]):  # v2 draws from torch's global generator
            torch.manual_seed(seed)
            return self.tfm(self.items[i], self.masks[i])


def _seed_worker(worker_id: int) -> None:
    info = get_worker_info()
    if info is not None and isinstance(info.dataset, SegmentationItems) and info.dataset.gen is not None:
        info.dataset.gen = torch.Generator().manual_seed(torch.initial_seed() % 2**63)


def _palette(n: int) -> torch.Tensor:
    """(n, 3) colours in [0, 1]: class 0 black, then matplotlib's tab20 (cycled)."""
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap

    tab20 = colormaps["tab20"]
    assert isinstance(tab20, ListedColormap)  # a list of 20 colours
    colours = torch.tensor(tab20.colors, dtype=torch.float32)
    return torch.cat([torch.zeros(1, 3), colours[torch.arange(max(n - 1, 0)) % len(colours)]])


class SegmentationDataLoaders(BatchedLoaders):
    """`.train` / `.valid` DataLoaders of (image, mask) pairs, `codes` naming the mask's classes.

    Build it with `from_label_func` (files) or `from_tensors`; `**options` are `convert_mode`
    ("RGB"/"L"), `n_in` (3/1) and `num_workers`. `size` is an int or (height, width); None keeps
    the items' own size (they must all have it).
    """

    def __init__(self, train: tuple[Any, Any], valid: tuple[Any, Any], codes: Sequence[str], *, seed: int,
                 size: int | Sequence[int] | None = 224, augment: bool | Augment | None = True, bs: int = 16,
                 num_workers: int = 0, convert_mode: str | None = None, n_in: int | None = None) -> None:
        if bs < 1:
            raise ConfigError(f"bs must be at least 1, got {bs}.")
        self.codes: list[str] = [str(c) for c in codes]
        self.seed, self.bs, self.num_workers = seed, bs, num_workers
        self.size = _size(size)
        mode = check_mode(convert_mode, n_in)
        self.convert_mode = mode or (None if isinstance(train[0], torch.Tensor) else detect_mode(train[0]))
        aug = augment if isinstance(augment, Augment) else (Augment() if augment else None)
        self.train_ds = SegmentationItems(*train, PairTransform(self.size, True, self.convert_mode, aug),
                                          make_generator(seed, 1))
        self.valid_ds = SegmentationItems(*valid, PairTransform(self.size, False, self.convert_mode, None))
        self._batch = BatchTransform(None, None)
        self.train, self.valid = self._loader(self.train_ds, True), self._loader(self.valid_ds, False)

    @classmethod
    def from_label_func(cls, path: str | Path, fnames: Iterable[str | Path] | None, label_func: Callable[[Path], Any],
                        codes: Sequence[str] | None = None, valid_pct: float = 0.2, seed: int | None = None,
                        size: int | Sequence[int] | None = 224, bs: int = 16, augment: bool | Augment | None = True,
                        skip_bad: bool = False, **options: Any) -> SegmentationDataLoaders:
        """Images under `path` (or `fnames`), each mask at `label_func(image_path)`; `codes` None names the
        classes "0".."n-1" after the largest index found in the masks.

        Images and masks that cannot be read are found in one pass first: an error listing them all,
        or with `skip_bad=True` a warning, and their pairs are left out."""
        files = resolve_files(path, fnames)
        masks = [Path(label_func(f)) for f in files]
        missing = [str(m) for m in masks if not m.is_file()]
        if missing:
            raise DataError(f"{len(missing)} mask file(s) do not exist, e.g. {missing[:3]}; fix label_func.")
        bad = check_image_files(files, masks, skip_bad)
        if bad:
            keep = [i for i, (f, m) in enumerate(zip(files, masks)) if Path(f) not in bad and m not in bad]
            if not keep:
                raise DataError("no readable image and mask pair is left after leaving out the broken files.")
            files, masks = [files[i] for i in keep], [masks[i] for i in keep]
        codes = _codes(codes, lambda: max(int(open_mask(m).max()) for m in masks))
        seed = resolve_seed(seed)
        train_idx, valid_idx = random_split(len(files), valid_pct, seed)
        pick = lambda xs, idx: [xs[i] for i in idx]  # noqa: E731
        return cls((pick(files, train_idx), pick(masks, train_idx)), (pick(files, valid_idx), pick(masks, valid_idx)),
                   codes, seed=seed, size=size, augment=augment, bs=bs, **options)

    @classmethod
    def from_tensors(cls, images: torch.Tensor, masks: torch.Tensor, codes: Sequence[str] | None = None,
                     valid_pct: float = 0.2, seed: int | None = None, size: int | Sequence[int] | None = None,
                     bs: int = 16, augment: bool | Augment | None = True, valid_images: torch.Tensor | None = None,
                     valid_masks: torch.Tensor | None = None, **options: Any) -> SegmentationDataLoaders:
        """In-memory uint8 images (N, C, H, W) and integer masks (N, H, W); a random split unless
        `valid_images` and `valid_masks` are given."""
        for name, x, m in (("images", images, masks), ("valid_images", valid_images, valid_masks)):
            if x is None and m is None:
                continue
            if x is None or m is None or x.ndim != 4 or m.ndim not in (3, 4) or len(x) != len(m):
                raise DataError(f"{name} must be (N, C, H, W) with masks (N, H, W) of the same N; got "
                                f"{None if x is None else tuple(x.shape)} and {None if m is None else tuple(m.shape)}.")
        all_masks = masks if valid_masks is None else torch.cat([masks.reshape(-1), valid_masks.reshape(-1)])
        codes = _codes(codes, lambda: int(all_masks.max()))
        if int(all_masks.max()) >= len(codes) or int(all_masks.min()) < 0:
            raise DataError(f"the masks hold indices up to {int(all_masks.max())} but there are {len(codes)} codes.")
        seed = resolve_seed(seed)
        if valid_images is None or valid_masks is None:  # both or neither, checked above
            train_idx, valid_idx = (torch.tensor(i) for i in random_split(len(images), valid_pct, seed))
            train, valid = (images[train_idx], masks[train_idx]), (images[valid_idx], masks[valid_idx])
        else:
            train, valid = (images, masks), (valid_images, valid_masks)
        return cls(train, valid, codes, seed=seed, size=size, augment=augment, bs=bs, **options)

    # ---- what the Learner uses --------------------------------------------------------------------
    @property
    def c(self) -> int:
        """Number of classes (codes)."""
        return len(self.codes)

    @property
    def vocab(self) -> list[str]:
        """The codes (class names), as `vocab` for the Learner and saved heads."""
        return self.codes

    def encode_item(self, item: ImageItem) -> tuple[torch.Tensor]:
        """One image (file, PIL image or (C, H, W) tensor) -> model input with batch dim 1 (valid steps)."""
        x = self.valid_ds.tfm(item)[0][None]
        return (self.batch_transform((x, torch.zeros(1, dtype=torch.long)), train=False)[0],)

    # ---- looking at the data ----------------------------------------------------------------------
    def show_batch(self, path: str | Path | None = None, max_n: int = 6, train: bool = True) -> Path:
        """Save image | mask of up to `max_n` items of one batch as a PNG; returns its path."""
        images, masks = self.one_batch(train)
        return self._save([images[:max_n], masks[:max_n]], "image | target", path, "show_batch.png")

    def show_results(self, learn: Any, path: str | Path | None = None, max_n: int = 6) -> Path:
        """Save image | target | prediction for up to `max_n` validation items as a PNG; returns its path."""
        images, masks = self.one_batch(train=False)
        images, masks = images[:max_n], masks[:max_n]
        model = learn.model
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                out = model(images.to(learn.device)).float()
        finally:
            model.train(was_training)
        preds = learn.decode(learn.activation(out)).cpu()
        return self._save([images, masks, preds], "image | target | prediction", path, "show_results.png")

    def _save(self, columns: list[torch.Tensor], title: str, path: str | Path | None, default: str) -> Path:
        """One row per item: the image, then each mask column in the codes' colours, side by side."""
        images = self.denormalize(columns[0].float().cpu())
        images = images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images[:, :3]
        palette = _palette(max(self.c, int(max(int(c.max()) for c in columns[1:])) + 1))
        panels = [images] + [palette[c.long().cpu()].permute(0, 3, 1, 2) for c in columns[1:]]
        gap = torch.ones(len(images), 3, images.shape[-2], 2)
        rows = torch.cat([p for panel in panels for p in (panel, gap)][:-1], dim=3)
        titles = [f"{title}\n{', '.join(self.codes[int(k)] for k in columns[1][i].unique() if int(k) < self.c)}"
                  for i in range(len(rows))]
        return save_batch_grid(rows, titles, default_figure_path(default) if path is None else path)

    def __repr__(self) -> str:
        return (f"SegmentationDataLoaders(train={len(self.train_ds)}, valid={len(self.valid_ds)}, "
                f"codes={self.codes}, size={self.size}, n_in={self.n_in}, bs={self.bs})")

    def _loader(self, ds: Dataset, shuffle: bool) -> DataLoader:
        return DataLoader(
            ds, batch_size=self.bs, shuffle=shuffle, drop_last=shuffle and len(ds) >= self.bs,  # type: ignore[arg-type]
            num_workers=self.num_workers, collate_fn=collate_items, generator=make_generator(self.seed, 2),
            worker_init_fn=_seed_worker if self.num_workers else None,
        )


def _codes(codes: Sequence[str] | None, largest: Callable[[], int]) -> list[str]:
    """`codes` as strings, or "0".."n-1" after the largest mask index."""
    if codes is not None:
        if len(codes) < 1:
            raise ConfigError("codes must name at least one class.")
        return [str(c) for c in codes]
    return [str(i) for i in range(max(largest(), 1) + 1)]
