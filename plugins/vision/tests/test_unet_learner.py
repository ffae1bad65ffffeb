"""unet_learner: defaults from the data, frozen pretrained body, binary variant, artifact round trips."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

import graftzoo
from graftzoo.artifacts import load_head, save_head
from graftzoo.imports import import_attr
from graftzoo_vision.data.segmentation import SegmentationDataLoaders
from graftzoo_vision.segmentation import BCEMaskLoss
from graftzoo_vision.unet_training import unet_learner

CODES = ["background", "bar", "box"]


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


def bars_and_boxes(n: int = 16, size: int = 32, classes: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """A bar (class 1) and a box (class 2, or 1 for two classes) drawn brighter than the background."""
    gen = torch.Generator().manual_seed(0)
    masks = torch.zeros(n, size, size, dtype=torch.long)
    for i in range(n):
        a, b = (int(v) for v in torch.randint(0, size - 12, (2,), generator=gen))
        masks[i, a : a + 3, 2:-2] = 1
        masks[i, b : b + 10, b : b + 10] = min(2, classes - 1)
    images = (masks * 100 + torch.randint(0, 40, (n, size, size), generator=gen)).to(torch.uint8)
    return images[:, None].expand(-1, 3, -1, -1).contiguous(), masks


def make_dls(classes: int = 3) -> SegmentationDataLoaders:
    images, masks = bars_and_boxes(classes=classes)
    return SegmentationDataLoaders.from_tensors(images, masks, codes=CODES[:classes], seed=0, size=32, bs=4)


def test_defaults_come_from_the_data() -> None:
    dls = make_dls()
    learn = unet_learner(dls, "vision/xresnet18", weights=None)
    config = learn.model.config
    assert config["head"] == "vision/unet" and config["n_out"] == 3 and config["task"] == "vision/segmentation"
    assert config["head_kwargs"]["img_size"] == [32, 32]
    assert [m.name for m in learn.metrics] == ["dice_multi", "foreground_acc"]
    assert dls.stats == learn.model.body.stats and learn.model.vocab == CODES
    assert all(p.requires_grad for p in learn.model.parameters())  # random body: nothing frozen
    with torch.no_grad():
        out = learn.model(dls.one_batch()[0])
    assert out.shape == (4, 3, 32, 32)


def test_pretrained_body_starts_frozen(weights_ref: str) -> None:
    learn = unet_learner(make_dls(), "vision/xresnet18", weights=weights_ref, img_size=48)
    model = learn.model
    assert model.config["head_kwargs"]["img_size"] == [48, 48]
    assert len(learn.param_lists) == len(model.body.param_groups()) + 1
    bn = {id(p) for m in model.body.modules() if isinstance(m, torch.nn.BatchNorm2d) for p in m.parameters()}
    assert all(p.requires_grad == (id(p) in bn) for p in model.body.parameters())
    assert all(p.requires_grad for p in model.head.parameters())


def test_binary_variant_trains_one_map_with_bce(tmp_path: Path) -> None:
    dls = make_dls(classes=2)
    learn = unet_learner(dls, "vision/xresnet18", weights=None, n_out=1, quiet=True)
    assert learn.model.config["task"] == "vision/binary_segmentation" and isinstance(learn.loss_func, BCEMaskLoss)
    assert [m.name for m in learn.metrics] == ["dice", "foreground_acc"]
    learn.fit(1, 1e-3)
    loss, dice, acc = learn.validate()
    assert loss is not None and torch.isfinite(torch.tensor(loss)) and 0.0 <= dice <= 1.0
    label, decoded, probs = learn.predict(dls.valid_ds.items[0])
    assert decoded.shape == (32, 32) and probs.shape == (1, 32, 32) and set(decoded.unique().tolist()) <= {0, 1}
    path = dls.show_results(learn, tmp_path / "results.png", max_n=2)
    assert path.is_file()


def perturb(model: torch.nn.Module) -> None:
    """What frozen training with train_bn changes: the decoder and the body's BatchNorm layers."""
    with torch.no_grad():
        for p in model.head.parameters():
            p.add_(0.05 * torch.randn_like(p))
        for m in model.body.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.add_(0.1)
                m.bias.add_(0.1)


def test_artifact_round_trip(weights_ref: str, tmp_path: Path) -> None:
    dls = make_dls()
    learn = unet_learner(dls, "vision/xresnet18", weights=weights_ref)
    perturb(learn.model)
    folder = save_head(learn, tmp_path / "unet-head", metrics={"dice_multi": 0.5})
    loaded = load_head(folder)
    x = dls.one_batch(train=False)[0]
    learn.model.eval()
    with torch.no_grad():
        assert torch.equal(loaded(x), learn.model(x))
    assert loaded.vocab == CODES and loaded.config == learn.model.config
    masks, probs = loaded.predict(dls.valid_ds.items[:2])
    assert len(masks) == 2 and masks[0].shape == (32, 32) and probs.shape == (2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(masks[1], learn.model(x[1:2]).argmax(1)[0])


def test_binary_artifact_round_trip_names_its_one_map(tmp_path: Path) -> None:
    dls = make_dls(classes=2)
    learn = unet_learner(dls, "vision/xresnet18", weights=None, n_out=1)
    perturb(learn.model)
    folder = save_head(learn, tmp_path / "binary-head")  # one output map, the two codes of the data
    loaded = load_head(folder)
    assert loaded.vocab == list(dls.vocab) and len(loaded.vocab) == 2
    masks, probs = loaded.predict(dls.valid_ds.items[0])
    x = dls.encode_item(dls.valid_ds.items[0])[0]
    learn.model.eval()
    with torch.no_grad():
        assert torch.equal(masks, (learn.model(x)[0, 0] > 0).long()) and probs.shape == (1, 32, 32)
