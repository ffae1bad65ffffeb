"""SegmentationDataLoaders: image and mask stay aligned under augmentation; files, codes, errors, plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from graftzoo_vision.data import Augment, DataError
from graftzoo_vision.data.segmentation import SegmentationDataLoaders


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread: None) -> None:
    """Every test here on one torch thread, seed 0 (graftzoo.testing's fixture)."""


def blobs(n: int, h: int = 48, w: int = 56, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """White rectangles on black (RGB uint8) and the masks thresholding them gives (1 = white)."""
    gen = torch.Generator().manual_seed(seed)
    masks = torch.zeros(n, h, w, dtype=torch.long)
    for i in range(n):
        for _ in range(2):
            top, left = (int(v) for v in torch.randint(0, min(h, w) - 16, (2,), generator=gen))
            hh, ww = (int(v) for v in torch.randint(6, 16, (2,), generator=gen))
            masks[i, top : top + hh, left : left + ww] = 1
    images = (masks * 255).to(torch.uint8)[:, None].expand(-1, 3, -1, -1).contiguous()
    return images, masks


def test_the_same_random_transforms_reach_image_and_mask() -> None:
    images, masks = blobs(24)
    dls = SegmentationDataLoaders.from_tensors(images, masks, codes=["bg", "blob"], seed=0, size=32, bs=8)
    x, y = next(iter(dls.train))
    assert x.shape == (8, 3, 32, 32) and x.dtype == torch.uint8 and y.shape == (8, 32, 32) and y.dtype == torch.long
    assert set(y.unique().tolist()) <= {0, 1}  # nearest interpolation: no new classes
    agree = ((x[:, 0] > 128).long() == y).float().mean()
    assert agree > 0.97, f"image and mask disagree on {1 - agree:.1%} of the pixels"
    # the train transforms really are random: another epoch gives other crops of the same items
    x2, _ = next(iter(dls.train))
    assert not torch.equal(x, x2)


def test_alignment_holds_without_lighting_and_with_vertical_flips() -> None:
    images, masks = blobs(16, seed=1)
    aug = Augment(flip_vert=True, max_rotate=30.0, max_lighting=0.0, min_scale=0.5)
    dls = SegmentationDataLoaders.from_tensors(images, masks, codes=["bg", "blob"], seed=3, size=(24, 40), augment=aug, bs=16)
    x, y = next(iter(dls.train))
    assert x.shape[-2:] == (24, 40) and y.shape[-2:] == (24, 40)
    assert ((x[:, 0] > 128).long() == y).float().mean() > 0.96


def test_valid_items_are_centre_fitted_and_fixed() -> None:
    images, masks = blobs(10)
    dls = SegmentationDataLoaders.from_tensors(images, masks, seed=0, size=24, bs=4)
    assert dls.codes == ["0", "1"] and dls.c == 2 and dls.vocab == dls.codes
    first = [b[1] for b in dls.valid]
    assert all(torch.equal(a, b[1]) for a, b in zip(first, dls.valid))
    x, y = dls.one_batch(train=False)
    assert x.dtype == torch.float32 and x.max() <= 1.0 and torch.equal(y, first[0])
    assert ((x[:, 0] > 0.5).long() == y).float().mean() > 0.97


def test_same_seed_same_batches() -> None:
    images, masks = blobs(12)
    a = SegmentationDataLoaders.from_tensors(images, masks, seed=5, size=24, bs=6)
    b = SegmentationDataLoaders.from_tensors(images, masks, seed=5, size=24, bs=6)
    for (xa, ya), (xb, yb) in zip(a.train, b.train):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)


def test_normalization_applies_to_images_only() -> None:
    images, masks = blobs(8)
    dls = SegmentationDataLoaders.from_tensors(images, masks, seed=0, size=24, bs=4).normalize([0.5] * 3, [0.25] * 3)
    x, y = dls.one_batch(train=False)
    assert x.min() == pytest.approx(-2.0) and x.max() == pytest.approx(2.0) and y.dtype == torch.long
    assert torch.allclose(dls.denormalize(x), (x * 0.25 + 0.5).clamp(0, 1))


def write_pairs(root: Path, n: int = 10) -> list[Path]:
    """`root/images/<i>.png` (RGB, odd sizes) and `root/labels/<i>_P.png` (mode P, classes 0..2)."""
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    rng = np.random.default_rng(0)
    files = []
    for i in range(n):
        h, w = 30 + i, 41
        mask = np.zeros((h, w), np.uint8)
        mask[5:15, 5:20] = 1
        mask[18:25, 22:35] = 2
        image = (mask[..., None] * 100 + rng.integers(0, 30, (h, w, 3))).astype(np.uint8)
        Image.fromarray(image).save(root / "images" / f"{i}.png")
        Image.fromarray(mask, mode="L").convert("P").save(root / "labels" / f"{i}_P.png")
        files.append(root / "images" / f"{i}.png")
    return files


def test_from_label_func_with_files(tmp_path: Path) -> None:
    files = write_pairs(tmp_path)
    dls = SegmentationDataLoaders.from_label_func(
        tmp_path, files, lambda p: tmp_path / "labels" / f"{p.stem}_P.png", valid_pct=0.2, seed=0, size=32, bs=4
    )
    assert dls.codes == ["0", "1", "2"] and len(dls.train_ds) == 8 and len(dls.valid_ds) == 2 and dls.n_in == 3
    x, y = dls.one_batch()
    assert x.shape == (4, 3, 32, 32) and y.shape == (4, 32, 32) and set(y.unique().tolist()) <= {0, 1, 2}
    named = SegmentationDataLoaders.from_label_func(
        tmp_path / "images", None, lambda p: tmp_path / "labels" / f"{p.stem}_P.png", codes=["void", "road", "car"], seed=0,
        size=32, bs=4,
    )
    assert named.codes == ["void", "road", "car"] and len(named.train_ds) + len(named.valid_ds) == 10
    assert named.encode_item(files[0])[0].shape == (1, 3, 32, 32)


def test_file_errors_say_what_to_fix(tmp_path: Path) -> None:
    files = write_pairs(tmp_path, n=4)
    with pytest.raises(DataError, match="mask file"):
        SegmentationDataLoaders.from_label_func(tmp_path, files, lambda p: tmp_path / "nowhere.png", seed=0, size=32)
    Image.new("RGB", (41, 30)).save(tmp_path / "labels" / "0_P.png")
    with pytest.raises(DataError, match="class indices"):
        SegmentationDataLoaders.from_label_func(tmp_path, files, lambda p: tmp_path / "labels" / f"{p.stem}_P.png",
                                                seed=0, size=32)
    Image.new("L", (10, 10)).save(tmp_path / "labels" / "0_P.png")
    dls = SegmentationDataLoaders.from_label_func(tmp_path, files, lambda p: tmp_path / "labels" / f"{p.stem}_P.png",
                                                  codes=["a", "b", "c"], seed=0, size=32, valid_pct=0.5)
    with pytest.raises(DataError, match="height and width"):
        for ds in (dls.train_ds, dls.valid_ds):
            [ds[i] for i in range(len(ds))]


def test_tensor_errors() -> None:
    images, masks = blobs(6)
    with pytest.raises(DataError, match="codes"):
        SegmentationDataLoaders.from_tensors(images, masks * 3, codes=["a", "b"], seed=0)
    with pytest.raises(DataError, match="same N"):
        SegmentationDataLoaders.from_tensors(images, masks[:3], seed=0)


def test_show_batch_saves_image_and_mask_side_by_side(tmp_path: Path) -> None:
    images, masks = blobs(8)
    dls = SegmentationDataLoaders.from_tensors(images, masks, codes=["bg", "blob"], seed=0, size=32, bs=4)
    path = dls.show_batch(tmp_path / "batch.png", max_n=4)
    assert path == tmp_path / "batch.png" and Image.open(path).size[0] > 200
