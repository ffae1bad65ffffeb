"""learn.export() / load_learner(): a head folder, no pickle; the loaded Learner predicts as the
exporting one did, in this process and in a fresh one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from torch import nn

from graftzoo import load_learner
from graftzoo.errors import ArtifactError, ConfigError
from graftzoo.learner import Learner


@pytest.fixture
def trained(tmp_path: Path) -> tuple[Learner, Path]:
    vision = pytest.importorskip("graftzoo_vision")
    from graftzoo_vision.data.synthetic import write_image_folder

    root = write_image_folder(tmp_path / "data", ["red", "blue"], 3, sizes=((36, 40),))
    dls = vision.ImageDataLoaders.from_folder(root, seed=0, size=32, bs=4)
    learn = vision.vision_learner(dls, "timm/test_convnext", weights=None, quiet=True, path=tmp_path / "work", device="cpu")
    learn.fit(1, 1e-3)
    return learn, root / "valid" / "blue" / "1.png"


@pytest.mark.slow
def test_export_then_load_learner_predicts_the_same(trained: tuple[Learner, Path]) -> None:
    learn, image = trained
    folder = learn.export()
    assert folder == learn.path / "export" and (folder / "graftzoo.json").is_file()
    assert not list(folder.glob("*.pkl")) and not list(folder.glob("*.pt"))
    label, decoded, probs = learn.predict(image)

    loaded = load_learner(folder)
    assert isinstance(loaded, Learner) and loaded.dls.vocab == learn.dls.vocab
    label2, decoded2, probs2 = loaded.predict(image)
    assert label2 == label and int(decoded2) == int(decoded)
    torch.testing.assert_close(probs2, probs, atol=1e-5, rtol=0)
    with pytest.raises(ConfigError, match="load_learner"):
        loaded.fit(1)

    code = (
        "import json, sys; from graftzoo import load_learner; "
        "label, dec, probs = load_learner(sys.argv[1]).predict(sys.argv[2]); "
        "print(json.dumps([label, int(dec), probs.tolist()]))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(folder), str(image)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    label3, decoded3, probs3 = json.loads(out.stdout.strip().splitlines()[-1])
    assert label3 == label and decoded3 == int(decoded)
    torch.testing.assert_close(torch.tensor(probs3), probs, atol=1e-5, rtol=0)


def test_tta_on_images_augments(trained: tuple[Learner, Path]) -> None:
    learn, _ = trained
    plain, targs = learn.get_preds()
    preds, targs2 = learn.tta(n=2)
    assert torch.equal(targs, targs2) and preds.shape == plain.shape
    torch.testing.assert_close(preds.sum(-1), torch.ones(len(preds)))
    assert not torch.allclose(preds, plain, atol=1e-6)  # the augmented passes changed the predictions
    same, _ = learn.tta(n=2, beta=1.0)  # all weight on the plain predictions
    torch.testing.assert_close(same, plain)


def test_export_needs_a_grafted_model_and_writes_nothing_otherwise(make_learner, tmp_path: Path) -> None:
    learn = make_learner(model=nn.Linear(4, 2), loss_func=nn.CrossEntropyLoss())
    with pytest.raises(ArtifactError, match="graft"):
        learn.export()
    assert not (tmp_path / "export").exists()
    with pytest.raises(ArtifactError, match="folder"):
        load_learner(tmp_path / "missing")
    for call in (lambda: learn.export("export.pkl"), lambda: load_learner(tmp_path / "export.pkl")):
        with pytest.raises(ConfigError, match="never pickles"):
            call()
