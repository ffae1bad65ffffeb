"""Grayscale image folders: the learner follows the data's channels, and a saved head predicts as the Learner."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from graftzoo.artifacts import load_head
from graftzoo_vision import ImageDataLoaders, vision_learner


@pytest.fixture
def gray_folder(tmp_path: Path) -> Path:
    gen = torch.Generator().manual_seed(0)
    for label, level in (("dark", 40), ("light", 200)):
        (tmp_path / label).mkdir()
        for i in range(8):
            pixels = (torch.full((20, 26), level) + torch.randint(-30, 30, (20, 26), generator=gen)).clamp(0, 255)
            Image.fromarray(pixels.to(torch.uint8).numpy(), mode="L").save(tmp_path / label / f"{i}.png")
    return tmp_path


def test_grayscale_data_gets_a_one_channel_body_and_the_saved_head_agrees(gray_folder: Path, tmp_path: Path) -> None:
    torch.manual_seed(0)
    dls = ImageDataLoaders.from_folder(gray_folder, valid_pct=0.25, seed=0, size=32, bs=4, augment=False)
    assert dls.n_in == 1
    learn = vision_learner(dls, "timm/test_convnext", weights=None, quiet=True)
    assert learn.model.body.n_in == 1 and learn.model.inputs.n_in == 1
    learn.fit(1, 1e-3)
    assert dls.preprocessor.stats is not None and len(dls.preprocessor.stats["mean"]) == 3  # RGB stats, averaged for L
    image = gray_folder / "light" / "3.png"
    label, _, probs = learn.predict(image)
    loaded = load_head(learn.model.save_head(tmp_path / "gray-head", vocab=dls.vocab))
    loaded_label, loaded_probs = loaded.predict(image)
    assert loaded_label == label
    torch.testing.assert_close(loaded_probs, probs, atol=1e-5, rtol=0)
