"""Multi-label and regression images: data, vision_learner's task, metrics, predict, and saved heads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from graftzoo.artifacts import load_head
from graftzoo.errors import ConfigError
from graftzoo.metrics import metric_name
from graftzoo_vision import ImageDataLoaders, vision_learner
from graftzoo_vision.data.synthetic import fashion_like, write_fashion_csv

ARCH = "timm/test_convnext"


@pytest.fixture(scope="module")
def fashion(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fashion")
    write_fashion_csv(root, n=16, seed=5)
    return root


def _metric_names(learn: object) -> list[str]:
    return [m.name for m in learn.metrics]  # type: ignore[attr-defined]


def test_multilabel_learner_predicts_tags_and_the_saved_head_agrees(fashion: Path, tmp_path: Path) -> None:
    torch.manual_seed(0)
    dls = ImageDataLoaders.from_csv(
        fashion, fn_col="fname", label_col="tags", label_delim=" ", valid_col="is_valid", folder="images",
        suff=".png", size=32, bs=4, seed=0, augment=False,
    )  # fmt: skip
    learn = vision_learner(dls, ARCH, weights=None, quiet=True)  # the task comes from the data
    assert learn.model.config["task"] == "core/multilabel" and isinstance(learn.loss_func, nn.BCEWithLogitsLoss)
    assert _metric_names(learn) == ["accuracy_multi", "f1_score"]
    learn.fit(1, 1e-2)
    assert all(v is not None for v in learn.recorder.values[-1])
    image = fashion / "images" / "item_3.png"
    tags, decoded, probs = learn.predict(image)
    assert probs.shape == (3,) and decoded.tolist() == (probs > 0.5).tolist()
    assert tags == [t for t, p in zip(dls.vocab, probs.tolist()) if p > 0.5]  # tag names, never indices
    loaded = load_head(learn.model.save_head(tmp_path / "tags-head"))
    assert loaded.model_config.task == "core/multilabel" and loaded.vocab == ["dots", "frame", "stripes"]
    loaded_tags, loaded_probs = loaded.predict(image)
    assert loaded_tags == tags
    torch.testing.assert_close(loaded_probs, probs, atol=1e-5, rtol=0)


def test_regression_on_32px_tensors_records_32px_and_predicts_values(tmp_path: Path) -> None:
    torch.manual_seed(0)
    brightness = torch.linspace(0.3, 1.0, 12)
    images = torch.from_numpy(np.stack([fashion_like((), float(b), seed=i, size=32) for i, b in enumerate(brightness)]))
    dls = ImageDataLoaders.from_tensors(images[:, None], brightness, seed=0, bs=4, augment=False)
    learn = vision_learner(dls, ARCH, weights=None, task="regression", y_range=(0.0, 1.2), quiet=True)
    assert learn.model.config["task"] == "core/regression" and isinstance(learn.loss_func, nn.MSELoss)
    assert _metric_names(learn) == ["rmse"] and learn.model.vocab is None
    learn.fit(1, 1e-2)
    folder = learn.model.save_head(tmp_path / "bright-head")
    stored = json.loads((folder / "graftzoo.json").read_text())
    assert stored["preprocessor"]["state"]["input_size"] == [1, 32, 32]  # was the arch's 224
    assert stored["classes"] is None and stored["task"] == "core/regression"
    big = fashion_like((), 0.6, seed=99, size=48)  # a larger image is resized to the 32 px trained on
    values, _, out = learn.predict(big)
    assert isinstance(values, list) and values == [pytest.approx(float(out[0]))] and 0.0 <= values[0] <= 1.2
    loaded_values, _ = load_head(folder).predict(big)
    assert loaded_values == [pytest.approx(values[0], abs=1e-5)]


def test_task_that_does_not_fit_the_data_is_a_clear_error(fashion: Path) -> None:
    dls = ImageDataLoaders.from_csv(fashion, fn_col="fname", label_col="brightness", folder="images", suff=".png",
                                    size=32, bs=4, seed=0)
    assert dls.task == "core/regression"
    with pytest.raises(ConfigError, match=r"task='core/multilabel' does not fit the data: its targets are for 'core/regression'"):
        vision_learner(dls, ARCH, weights=None, task="core/multilabel", quiet=True)


@pytest.mark.slow
def test_a_saved_multilabel_head_predicts_the_same_in_a_fresh_process(fashion: Path, tmp_path: Path, graftzoo_home: Path) -> None:
    torch.manual_seed(1)
    dls = ImageDataLoaders.from_csv(fashion, fn_col="fname", label_col="tags", label_delim=" ", folder="images",
                                    suff=".png", size=32, bs=4, seed=0, augment=False)
    learn = vision_learner(dls, ARCH, weights=None, quiet=True)
    learn.fit(1, 1e-2)
    folder = learn.model.save_head(tmp_path / "head")
    image = tmp_path / "new.png"
    Image.fromarray(fashion_like(["frame", "dots"], 0.5, seed=7)).save(image)
    tags, _, probs = learn.predict(image)
    script = (
        "import json, sys\nfrom graftzoo.artifacts import load_head\n"
        "tags, probs = load_head(sys.argv[1]).predict(sys.argv[2])\nprint(json.dumps([tags, probs.tolist()]))"
    )
    proc = subprocess.run(  # inherits GRAFTZOO_HOME from the graftzoo_home fixture: caches stay in tmp_path
        [sys.executable, "-c", script, str(folder), str(image)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    fresh_tags, fresh_probs = json.loads(proc.stdout.strip().splitlines()[-1])
    assert fresh_tags == tags
    assert fresh_probs == pytest.approx(probs.tolist(), abs=1e-5)
