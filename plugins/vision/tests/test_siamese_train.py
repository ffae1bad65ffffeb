"""End to end: seed 001's Siamese model on digit pairs, with the packaged pretrained EfficientNet-Lite0."""

from __future__ import annotations

import time

import pytest
import torch

import graftzoo
from graftzoo.errors import GraftzooError
from graftzoo.learner import BnFreeze
from graftzoo_vision.data.siamese import SiameseDataLoaders
from graftzoo_vision.datasets import digits
from graftzoo_vision.siamese_training import siamese_learner

ARCH, WEIGHTS = "timm/tf_efficientnet_lite0", "packaged:efficientnet-lite0"


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread: None) -> None:
    """Every test here on one torch thread, seed 0 (graftzoo.testing's fixture)."""


def _packaged_weights_or_skip() -> None:
    try:
        graftzoo.get_arch(ARCH)
        if "packaged/packaged" not in graftzoo.weight_sources():
            pytest.skip("graftzoo-packaged (the pretrained EfficientNet-Lite0 weights) is not installed")
    except GraftzooError as exc:
        pytest.skip(f"{ARCH} is not available: {exc}")


@pytest.mark.slow
def test_siamese_on_digit_pairs_is_clearly_above_chance() -> None:
    _packaged_weights_or_skip()
    torch.manual_seed(0)
    data = digits()
    keep = data.labels < 6  # 6 classes, as in the reference run
    images, labels = data.images[keep], data.labels[keep]
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
    train, valid = order[:480], order[480:680]
    dls = SiameseDataLoaders.from_tensors(images[train], labels[train], valid_images=images[valid],
                                          valid_labels=labels[valid], seed=0, size=64, bs=16, n_in=3, augment=False)
    learn = siamese_learner(dls, ARCH, weights=WEIGHTS, train_bn=False, quiet=True)
    assert learn.model.body.weights == WEIGHTS and len(learn.param_lists) == 2
    start = time.perf_counter()
    learn.fit_one_cycle(6, 3e-3, cbs=[BnFreeze()])
    _, accuracy = learn.validate()
    print(f"\nSiamese on digit pairs: accuracy {accuracy:.3f} on {len(dls.valid_pairs)} fixed valid pairs, "
          f"{time.perf_counter() - start:.0f} s for 6 epochs of {len(dls.train_ds)} pairs")
    assert accuracy >= 0.65
