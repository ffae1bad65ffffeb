"""siamese_learner: two groups, frozen pretrained encoder, pairs in and out, embeddings, artifact round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

import graftzoo
from graftzoo.artifacts import load_head, save_head
from graftzoo.imports import import_attr
from graftzoo_vision.data.siamese import SiameseDataLoaders
from graftzoo_vision.datasets import digits
from graftzoo_vision.embedding import embed, pool_features
from graftzoo_vision.siamese_training import siamese_learner


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread: None) -> None:
    """Every test here on one torch thread, seed 0 (graftzoo.testing's fixture)."""


@pytest.fixture(scope="module")
def weights_ref(tmp_path_factory: pytest.TempPathFactory) -> str:
    """`file://` random xresnet18 weights, standing in for pretrained ones."""
    spec = graftzoo.get_arch("vision/xresnet18")
    torch.manual_seed(0)
    net = import_attr(spec.factory)(**spec.factory_kwargs)
    path = tmp_path_factory.mktemp("weights") / "xresnet18.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    return path.as_uri()


@pytest.fixture(scope="module")
def dls() -> SiameseDataLoaders:
    data = digits()
    return SiameseDataLoaders.from_tensors(data.images[:48], data.labels[:48], classes=data.classes, seed=0,
                                           size=32, bs=8)


def test_two_groups_and_a_frozen_pretrained_encoder(dls: SiameseDataLoaders, weights_ref: str) -> None:
    learn = siamese_learner(dls, "vision/xresnet18", weights=weights_ref)
    model = learn.model
    assert model.config["head"] == "vision/siamese" and model.config["inputs"]["n_in"] == 1  # from the grayscale data
    assert len(learn.param_lists) == 2
    assert {id(p) for p in learn.param_lists[0]} == {id(p) for p in model.body.parameters()}
    bn = {id(p) for m in model.body.modules() if isinstance(m, torch.nn.BatchNorm2d) for p in m.parameters()}
    assert all(p.requires_grad == (id(p) in bn) for p in model.body.parameters())
    assert all(p.requires_grad for p in model.head.parameters())
    assert dls.stats == model.body.stats and model.vocab == ["different", "same"]
    first, second, _ = dls.one_batch()
    with torch.no_grad():
        assert model.eval()(first, second).shape == (8, 2)


def test_fit_and_predict_a_pair(dls: SiameseDataLoaders) -> None:
    learn = siamese_learner(dls, "vision/xresnet18", weights=None, quiet=True)
    assert all(p.requires_grad for p in learn.model.parameters())
    learn.fit(1, 1e-3)
    loss, accuracy = learn.validate()
    assert loss is not None and 0.0 <= accuracy <= 1.0
    items = dls.valid_ds.items
    label, decoded, probs = learn.predict((items[0], items[1]))
    assert label in ("same", "different") and probs.shape == (2,) and torch.allclose(probs.sum(), torch.tensor(1.0))


def test_embed_pools_the_body_features(dls: SiameseDataLoaders) -> None:
    learn = siamese_learner(dls, "vision/xresnet18", weights=None)
    images = torch.stack([dls.valid_ds.tfm(item) for item in dls.valid_ds.items[:5]])  # uint8, already 32 px
    vectors = embed(learn, images, bs=2)
    assert vectors.shape == (5, 512) and vectors.dtype == torch.float32
    model = learn.model.eval()
    x = dls.batch_transform((images, torch.zeros(5)), train=False)[0]
    with torch.no_grad():
        maps = model.body(x)
    assert torch.allclose(vectors, maps.mean(dim=(-2, -1)), atol=1e-5)
    assert embed(learn, images, pool="concat").shape == (5, 1024)
    assert torch.equal(pool_features(maps, "max"), maps.amax(dim=(-2, -1)))


def test_artifact_round_trip(dls: SiameseDataLoaders, weights_ref: str, tmp_path: Path) -> None:
    learn = siamese_learner(dls, "vision/xresnet18", weights=weights_ref)
    with torch.no_grad():
        for p in learn.model.head.parameters():
            p.add_(0.05 * torch.randn_like(p))
        for m in learn.model.body.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_var.mul_(1.1)
    folder = save_head(learn, tmp_path / "siamese-head")
    loaded = load_head(folder)
    first, second, _ = dls.one_batch(train=False)
    learn.model.eval()
    with torch.no_grad():
        assert torch.equal(loaded(first, second), learn.model(first, second))
    assert loaded.vocab == ["different", "same"] and loaded.config == learn.model.config
    images = dls.valid_ds.items[:3]
    assert torch.equal(embed(loaded, images), embed(learn, images))  # the saved input size and stats
    label, probs = loaded.predict((images[0], images[1]))
    labels, batch_probs = loaded.predict([(images[0], images[1]), (images[2], images[2])])
    assert label in ("different", "same") and probs.shape == (2,) and labels[0] == label
    assert batch_probs.shape == (2, 2) and torch.allclose(batch_probs[0], probs)
    pair = dls.encode_item((images[0], images[1]))
    with torch.no_grad():
        assert torch.allclose(probs, learn.model(*pair).softmax(-1)[0], atol=1e-5)
