"""The quickstart's workflow across plugins: name-regex data, vision_learner, fine_tune,
interpretation, predict, save/push/pull/load of the head — on small synthetic images."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import graftzoo
from graftzoo_vision import ClassificationInterpretation, ImageDataLoaders, vision_learner
from graftzoo_vision.data import write_named_images


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread: None) -> None:
    """Every test here on one torch thread, seed 0 (graftzoo.testing's fixture)."""


def test_quickstart_workflow(tmp_path: Path, graftzoo_home: Path) -> None:
    torch.manual_seed(0)
    images = tmp_path / "images"
    write_named_images(images, ["Abyssinian", "beagle", "chihuahua"], n_per_class=12, sizes=((40, 30), (36, 48)))
    dls = ImageDataLoaders.from_name_re(images, None, pat=r"(.+)_\d+.jpg$", valid_pct=0.25, seed=42, size=32, bs=8)
    assert dls.vocab == ["Abyssinian", "beagle", "chihuahua"]
    assert Path(dls.show_batch(path=tmp_path / "batch.png")).is_file()

    learn = vision_learner(dls, "resnet18", weights=None, path=tmp_path, quiet=True)
    assert learn.model.config["arch"] == "torchvision/resnet18"
    suggested = learn.lr_find(num_it=10, show_plot=False)
    assert suggested.valley > 0
    learn.fine_tune(1, base_lr=1e-3)
    assert len(learn.recorder.values) == 1 and len(learn.recorder.values[0]) == 3  # last fit: loss, valid loss, accuracy

    interp = ClassificationInterpretation.from_learner(learn)
    assert int(interp.confusion_matrix().sum()) == len(dls.valid_ds)
    label, index, probs = learn.predict(sorted(images.glob("beagle_*.jpg"))[0])
    assert label == dls.vocab[int(index)] and probs.shape == (3,)

    learn.save_head(tmp_path / "head")
    revision = learn.push_head("me/pets", hub="local")
    loaded = graftzoo.load_head(f"me/pets@{revision.sha}")
    labels, loaded_probs = loaded.predict([sorted(images.glob("beagle_*.jpg"))[0]])
    assert labels == [label]
    assert torch.allclose(loaded_probs[0], probs, atol=1e-5)
