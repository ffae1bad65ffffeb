"""A loaded head predicts from files, PIL images and tensors, preprocessing as validation does."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from graftzoo.artifacts import load_head, save_head
from graftzoo.errors import ConfigError

SIZE = 64
STATS = ((0.5, 0.4, 0.3), (0.2, 0.25, 0.3))


@pytest.fixture
def small(kit: ModuleType, frozen: Any, tmp_path: Path) -> Any:
    """A head trained at 64 px with its own stats, saved and loaded back."""

    class Dls:
        vocab, stats, size = kit.CLASSES, STATS, SIZE

    class Learn:
        model, dls = frozen, Dls()

    return load_head(save_head(Learn(), tmp_path / "small"))


def _images(tmp_path: Path) -> list[Path]:
    gen = torch.Generator().manual_seed(0)
    paths = []
    for name, (w, h) in (("wide.png", (90, 60)), ("tall.jpg", (50, 120)), ("square.png", (64, 64))):
        pixels = torch.randint(0, 256, (h, w, 3), dtype=torch.uint8, generator=gen).numpy()
        Image.fromarray(pixels).save(tmp_path / name)
        paths.append(tmp_path / name)
    return paths


def _validation_batch(paths: list[Path]) -> torch.Tensor:
    """What graftzoo-vision's validation pipeline makes of these files at SIZE with STATS."""
    from graftzoo_vision.data.batch_tfms import BatchTransform
    from graftzoo_vision.data.items import ItemTransform

    items = torch.stack([ItemTransform(SIZE, False, "RGB")(p) for p in paths])
    return BatchTransform(SIZE, None, stats=STATS).images(items, train=False)


def test_files_are_preprocessed_like_validation(small: Any, tmp_path: Path) -> None:
    paths = _images(tmp_path)
    labels, probs = small.predict([str(p) for p in paths])
    with torch.no_grad():
        expected = small(_validation_batch(paths)).softmax(-1)
    assert torch.allclose(probs, expected, atol=1e-6)
    assert labels == [small.vocab[i] for i in expected.argmax(-1).tolist()]
    assert probs.shape == (3, 3) and torch.allclose(probs.sum(-1), torch.ones(3))


def test_single_items_pil_and_tensors(small: Any, tmp_path: Path) -> None:
    paths = _images(tmp_path)
    batch_labels, batch_probs = small.predict(paths)
    label, probs = small.predict(paths[0])
    assert label == batch_labels[0] and probs.shape == (3,) and torch.allclose(probs, batch_probs[0])
    with Image.open(paths[0]) as image:
        pil_label, pil_probs = small.predict(image)
    assert pil_label == label and torch.allclose(pil_probs, probs)
    uint8 = torch.from_numpy(np.array(Image.open(paths[2]).convert("RGB"))).permute(2, 0, 1)
    assert torch.allclose(small.predict(uint8)[1], batch_probs[2], atol=1e-6)
    assert torch.allclose(small.predict(uint8.float() / 255)[1], batch_probs[2], atol=1e-6)
    labels, probs4 = small.predict(torch.stack([uint8, uint8]))
    assert len(labels) == 2 and probs4.shape == (2, 3)


def test_grayscale_model_and_gray_inputs(kit: ModuleType, weights_ref: str, tmp_path: Path) -> None:
    model = load_head(save_head(kit.make_model(weights_ref, n_in=1), tmp_path / "gray"))
    image = Image.new("RGB", (40, 30), (10, 200, 30))
    label, probs = model.predict(image)  # converted to L, stats averaged as in training
    assert probs.shape == (3,) and isinstance(label, int)  # no class names saved: indices
    assert torch.allclose(model.predict(torch.rand(1, 30, 40))[1].sum(), torch.tensor(1.0))


def test_a_model_that_was_never_saved_predicts_too(frozen: Any) -> None:
    frozen.train()
    labels, probs = frozen.predict(torch.rand(2, 3, 40, 40))  # body stats and input size, no class names
    assert labels == probs.argmax(-1).tolist()
    assert frozen.training  # predict runs in eval mode and restores the mode it found


def test_bad_inputs_are_explained(small: Any, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(ConfigError, match="cannot open .*notes.txt.* as an image"):
        small.predict(tmp_path / "notes.txt")
    with pytest.raises(ConfigError, match="has 4 channels but the model takes 3"):
        small.predict(torch.rand(4, 20, 20))
    with pytest.raises(ConfigError, match="predict takes image paths"):
        small.predict(42)
