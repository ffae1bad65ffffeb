"""Presizing: items at presize, batches at size; valid is deterministic; normalization; encode_item."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from graftzoo.errors import ConfigError
from PIL import Image

from graftzoo_vision.data import IMAGENET_STATS, ImageDataLoaders, write_named_images

PAT = r"(.+)_\d+.jpg$"


@pytest.fixture
def dls(tmp_path: Path) -> ImageDataLoaders:
    files = write_named_images(tmp_path, ["cat", "dog"], 6, sizes=[(40, 30), (30, 44), (36, 36)])
    return ImageDataLoaders.from_name_re(tmp_path, files, PAT, seed=3, size=16, bs=4)


def test_items_are_presized_uint8(dls: ImageDataLoaders) -> None:
    assert dls.presize == 20  # 16 * 1.25
    x, _ = dls.train_ds[0]
    assert x.dtype == torch.uint8 and x.shape == (3, 20, 20)
    xb, yb = next(iter(dls.train))
    assert xb.shape == (4, 3, 20, 20) and xb.dtype == torch.uint8 and yb.dtype == torch.long


def test_batch_transform_gives_float_at_size(dls: ImageDataLoaders) -> None:
    for train, n in ((True, 4), (False, 2)):
        x, y = dls.one_batch(train)
        assert x.shape == (n, 3, 16, 16) and x.dtype == torch.float32
        assert x.min() >= 0.0 and x.max() <= 1.0
        assert y.shape == (n,)


def test_explicit_presize_and_checks(tmp_path: Path) -> None:
    files = write_named_images(tmp_path, ["a", "b"], 3)
    dls = ImageDataLoaders.from_name_re(tmp_path, files, PAT, seed=0, size=12, presize=24, bs=2)
    assert dls.train_ds[0][0].shape == (3, 24, 24)
    assert dls.one_batch()[0].shape == (2, 3, 12, 12)
    with pytest.raises(ConfigError, match="presize"):
        ImageDataLoaders.from_name_re(tmp_path, files, PAT, seed=0, size=12, presize=8)


def test_valid_has_no_augmentation(dls: ImageDataLoaders) -> None:
    first = dls.one_batch(train=False)[0]
    again = dls.one_batch(train=False)[0]
    assert torch.equal(first, again)
    raw = next(iter(dls.valid))[0]
    assert raw.shape[-1] == 16  # valid items are centre-cropped straight to size
    assert torch.allclose(first, raw.float() / 255)


def test_train_is_augmented(dls: ImageDataLoaders) -> None:
    raw = next(iter(dls.train))
    a = dls.batch_transform(raw, train=True)[0]
    b = dls.batch_transform(raw, train=True)[0]
    assert not torch.equal(a, b)


def test_no_augment_train_is_a_plain_resize(tmp_path: Path) -> None:
    files = write_named_images(tmp_path, ["a", "b"], 3)
    dls = ImageDataLoaders.from_name_re(tmp_path, files, PAT, seed=0, size=16, bs=2, augment=False)
    raw = next(iter(dls.train))
    assert torch.equal(dls.batch_transform(raw, True)[0], dls.batch_transform(raw, True)[0])


def test_normalization_applied_to_train_and_valid(dls: ImageDataLoaders) -> None:
    raw = next(iter(dls.valid))
    plain = dls.batch_transform(raw, train=False)[0]
    dls.normalize(*IMAGENET_STATS)
    assert dls.stats == IMAGENET_STATS
    normed = dls.batch_transform(raw, train=False)[0]
    mean = torch.tensor(IMAGENET_STATS[0]).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STATS[1]).view(1, 3, 1, 1)
    assert torch.allclose(normed, (plain - mean) / std, atol=1e-6)
    assert torch.allclose(dls.denormalize(normed), plain, atol=1e-6)
    assert dls.one_batch(train=True)[0].min() < 0  # train is normalized too
    with pytest.raises(ConfigError, match="per channel"):
        dls.normalize([0.5, 0.5], [0.2])


def test_batch_transform_keeps_target_and_handles_several_images(dls: ImageDataLoaders) -> None:
    x, y = next(iter(dls.train))
    x1, x2, out_y = dls.batch_transform((x, x.clone(), y), train=True)
    assert x1.shape == x2.shape == (4, 3, 16, 16)
    assert out_y is y


def test_encode_item_from_path_pil_and_tensor(dls: ImageDataLoaders, tmp_path: Path) -> None:
    path = dls.valid_ds.items[0]
    from_path = dls.encode_item(path)
    assert isinstance(from_path, tuple) and len(from_path) == 1
    assert from_path[0].shape == (1, 3, 16, 16) and from_path[0].dtype == torch.float32
    with Image.open(path) as img:
        from_pil = dls.encode_item(img.copy())[0]
    assert (from_path[0] - from_pil).abs().mean() < 0.05  # files may decode at a reduced JPEG scale
    from_tensor = dls.encode_item(torch.randint(0, 255, (3, 50, 40), dtype=torch.uint8))[0]
    assert from_tensor.shape == (1, 3, 16, 16)
    x, _ = dls.batch_transform(next(iter(dls.valid)), train=False)
    assert torch.allclose(from_path[0][0], x[0])


def test_test_dl_uses_valid_transforms(dls: ImageDataLoaders) -> None:
    files = list(dls.valid_ds.items) + list(dls.train_ds.items[:2])
    dl = dls.test_dl(files, bs=3)
    batches = list(dl)
    assert sum(len(b[0]) for b in batches) == len(files)
    x, target = dls.batch_transform(batches[0], train=False)
    assert x.shape == (3, 3, 16, 16) and target.tolist() == [0, 0, 0]
    assert torch.allclose(x[:2], dls.one_batch(train=False)[0][:2])
    folder_dl = dls.test_dl(Path(files[0]).parent)
    assert len(folder_dl.dataset) == 12


def test_grayscale_keeps_one_channel_unless_asked(tmp_path: Path) -> None:
    files = write_named_images(tmp_path, ["a", "b"], 3, mode="L", ext=".png")
    pat = r"(.+)_\d+.png$"
    gray = ImageDataLoaders.from_name_re(tmp_path, files, pat, seed=0, size=8, bs=2)
    assert gray.n_in == 1 and gray.one_batch()[0].shape == (2, 1, 8, 8)
    rgb = ImageDataLoaders.from_name_re(tmp_path, files, pat, seed=0, size=8, bs=2, n_in=3)
    assert rgb.n_in == 3 and rgb.one_batch()[0].shape == (2, 3, 8, 8)
    rgb2 = ImageDataLoaders.from_name_re(tmp_path, files, pat, seed=0, size=8, bs=2, convert_mode="RGB")
    assert rgb2.n_in == 3
    with pytest.raises(ConfigError, match="disagree"):
        ImageDataLoaders.from_name_re(tmp_path, files, pat, seed=0, convert_mode="L", n_in=3)
