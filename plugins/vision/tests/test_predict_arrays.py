"""`predict` takes numpy arrays through the vision/image preprocessor, as a file of the same pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from graftzoo.errors import ConfigError
from graftzoo_vision.data.synthetic import fashion_like
from graftzoo_vision.image_preprocessor import ImagePreprocessor

STATS = {"mean": [0.5], "std": [0.25]}


def test_uint8_arrays_encode_exactly_as_the_png_of_the_same_pixels(tmp_path: Path) -> None:
    gray = fashion_like(["stripes"], 0.8, seed=1, size=40)
    Image.fromarray(gray).save(tmp_path / "gray.png")
    pre = ImagePreprocessor(1, STATS, [1, 28, 28])
    from_file = pre.encode([tmp_path / "gray.png"])[0]
    assert from_file.shape == (1, 1, 28, 28)
    torch.testing.assert_close(pre.encode([gray])[0], from_file, atol=0, rtol=0)  # (H, W)
    torch.testing.assert_close(pre.encode([gray[:, :, None]])[0], from_file, atol=0, rtol=0)  # (H, W, 1)
    rgb = np.stack([gray, gray // 2, 255 - gray], axis=-1)
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    rgb_pre = ImagePreprocessor(3, None, [3, 28, 28])
    torch.testing.assert_close(rgb_pre.encode([rgb])[0], rgb_pre.encode([tmp_path / "rgb.png"])[0], atol=0, rtol=0)


def test_float_arrays_are_chw_or_hwc_when_unambiguous() -> None:
    chw = np.random.default_rng(0).random((3, 8, 10), dtype=np.float32)
    pre = ImagePreprocessor(3, None, None)
    expected = torch.from_numpy(chw)[None]
    torch.testing.assert_close(pre.encode([chw])[0], expected)
    torch.testing.assert_close(pre.encode([chw.transpose(1, 2, 0)])[0], expected)
    gray = ImagePreprocessor(1, None, None).encode([chw[0]])[0]  # (H, W) float
    torch.testing.assert_close(gray, expected[:, :1])
    with pytest.raises(ConfigError, match=r"cannot tell whether the float array of shape \(3, 5, 3\)"):
        pre.encode([np.zeros((3, 5, 3), dtype=np.float32)])
    with pytest.raises(ConfigError, match=r"values in \[0, 1\]"):
        pre.encode([chw * 255])
    with pytest.raises(ConfigError, match="dtype int64"):
        pre.encode([np.zeros((8, 8), dtype=np.int64)])


def test_single_and_batched_arrays_through_batch_items() -> None:
    pre = ImagePreprocessor(1, None, [1, 28, 28])
    image = fashion_like(seed=2)
    assert pre.batch_items(image) == (True, [image])
    single, items = pre.batch_items(np.stack([image, image]))  # (B, H, W, ...) 4-d only
    assert single is True and len(items) == 1  # a 3-d array is ONE image
    with pytest.raises(ConfigError, match=r"\(H, W, C\) with C 1, 3 or 4"):
        pre.encode(items)  # (2, 28, 28) reads as an image with 28 channels: told to pass a list
    single, items = pre.batch_items(np.stack([image, image])[..., None])
    assert single is False and len(items) == 2 and pre.encode(items)[0].shape == (2, 1, 28, 28)


def test_learner_and_loaded_head_predict_from_an_array(tmp_path: Path) -> None:
    from graftzoo.artifacts import load_head
    from graftzoo_vision import ImageDataLoaders, vision_learner

    torch.manual_seed(0)
    images = torch.from_numpy(np.stack([fashion_like(["frame"] if i % 2 else [], seed=i) for i in range(8)]))[:, None]
    dls = ImageDataLoaders.from_tensors(images, [i % 2 for i in range(8)], vocab=["plain", "framed"], seed=0, size=32, bs=4)
    learn = vision_learner(dls, "timm/test_convnext", weights=None, quiet=True)
    array = fashion_like(["frame"], seed=20)
    Image.fromarray(array).save(tmp_path / "x.png")
    label, _, probs = learn.predict(array)
    file_label, _, file_probs = learn.predict(tmp_path / "x.png")
    assert label == file_label and label in ("plain", "framed")
    torch.testing.assert_close(probs, file_probs, atol=0, rtol=0)
    loaded_label, loaded_probs = load_head(learn.model.save_head(tmp_path / "head", vocab=dls.vocab)).predict(array)
    assert loaded_label == label
    torch.testing.assert_close(loaded_probs, probs, atol=1e-5, rtol=0)
