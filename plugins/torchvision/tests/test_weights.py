"""The `torchvision:` weight source, against a torch hub cache that the tests fill themselves."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch
from torchvision import models

import graftzoo
from graftzoo.errors import WeightsError
from graftzoo.registry import get_arch
from graftzoo.weights import weight_source
from graftzoo_torchvision.download import sha256_of
from graftzoo_torchvision.weights import TorchvisionWeights


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty torch hub cache: TORCH_HOME points torchvision (and this source) at tmp_path."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("GRAFTZOO_OFFLINE", "1")
    folder = tmp_path / "torch" / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    return folder


def save_checkpoint(folder: Path, stem: str, state: dict[str, torch.Tensor]) -> str:
    """Save `state` as torch.hub names checkpoints, `<stem>-<first 8 hex of its sha256>.pth`; return the name."""
    tmp = folder / f"{stem}.tmp"
    torch.save(state, tmp)
    name = f"{stem}-{sha256_of(tmp)[:8]}.pth"
    tmp.rename(folder / name)
    return name


def test_registered_as_the_torchvision_scheme() -> None:
    assert isinstance(weight_source("torchvision"), TorchvisionWeights)


def test_enum_references_name_torchvisions_files(hub_cache: Path) -> None:
    source, resnet50 = TorchvisionWeights(), get_arch("torchvision/resnet50")
    full = source.checkpoint("torchvision:ResNet50_Weights.IMAGENET1K_V2")
    assert full.filename == "resnet50-11ad3fa6.pth"
    assert full.url == "https://download.pytorch.org/models/resnet50-11ad3fa6.pth"
    assert source.checkpoint("torchvision:DEFAULT", resnet50) == full
    assert source.checkpoint("torchvision:IMAGENET1K_V1", resnet50).filename == "resnet50-0676ba61.pth"
    assert source.cache_dir == hub_cache


def test_bad_references_say_what_to_write(hub_cache: Path) -> None:
    source, resnet18 = TorchvisionWeights(), get_arch("torchvision/resnet18")
    with pytest.raises(WeightsError, match="IMAGENET1K_V1"):
        source.checkpoint("torchvision:NOPE", resnet18)
    with pytest.raises(WeightsError, match="in full"):
        source.checkpoint("torchvision:IMAGENET1K_V1")
    with pytest.raises(WeightsError, match="ResNet18_Weights"):
        source.checkpoint("torchvision:ResNet50_Weights.IMAGENET1K_V2", resnet18)
    with pytest.raises(WeightsError, match="not a path"):
        source.checkpoint("torchvision:../elsewhere/resnet18-f37072fd.pth")
    with pytest.raises(WeightsError, match="image_size=384"):
        source.checkpoint("torchvision:ViT_B_16_Weights.IMAGENET1K_SWAG_E2E_V1", get_arch("torchvision/vit_b_16"))


def test_missing_file_offline_fails_at_once_naming_file_url_and_place(hub_cache: Path) -> None:
    start = time.monotonic()
    with pytest.raises(WeightsError) as caught:
        graftzoo.create_body("torchvision/resnet18", weights="default")
    message = str(caught.value)
    assert time.monotonic() - start < 10
    assert "resnet18-f37072fd.pth" in message
    assert "https://download.pytorch.org/models/resnet18-f37072fd.pth" in message
    assert str(hub_cache / "resnet18-f37072fd.pth") in message


def test_hash_mismatch_is_refused_and_the_file_not_loaded(hub_cache: Path) -> None:
    (hub_cache / "resnet18-f37072fd.pth").write_bytes(b"not a checkpoint at all")
    with pytest.raises(WeightsError, match="Delete the file"):
        TorchvisionWeights().load_state_dict("torchvision:ResNet18_Weights.IMAGENET1K_V1")


def test_verified_checkpoint_loads_and_one_channel_sums_rgb_kernels(hub_cache: Path) -> None:
    torch.manual_seed(0)
    state = models.resnet18().state_dict()
    name = save_checkpoint(hub_cache, "resnet18", state)
    gray = graftzoo.create_body("torchvision/resnet18", weights=f"torchvision:{name}", n_in=1)
    torch.testing.assert_close(gray.net.conv1.weight, state["conv1.weight"].sum(dim=1, keepdim=True))
    torch.testing.assert_close(gray.net.layer4.get_submodule("1").conv2.weight, state["layer4.1.conv2.weight"])
    four = graftzoo.create_body("torchvision/resnet18", weights=f"torchvision:{name}", n_in=4)
    torch.testing.assert_close(four.net.conv1.weight[:, :3], state["conv1.weight"])
    assert not four.net.conv1.weight[:, 3].any()


def test_tampered_checkpoint_is_refused(hub_cache: Path) -> None:
    name = save_checkpoint(hub_cache, "resnet18", models.resnet18().state_dict())
    with open(hub_cache / name, "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(WeightsError, match="Delete"):
        graftzoo.create_body("torchvision/resnet18", weights=f"torchvision:{name}")


def test_old_densenet_checkpoints_load(hub_cache: Path) -> None:
    """torchvision's densenet files predate torch 0.4: keys like `norm.1.weight`, no `num_batches_tracked`, no metadata."""
    state = models.densenet121().state_dict()
    legacy = {
        k.replace("norm1.", "norm.1.").replace("conv2.", "conv.2."): v for k, v in state.items() if "num_batches" not in k
    }  # a plain dict: no `_metadata`, as in a checkpoint saved before torch kept module versions
    assert legacy.keys() != state.keys()
    name = save_checkpoint(hub_cache, "densenet121", legacy)
    body = graftzoo.create_body("torchvision/densenet121", weights=f"torchvision:{name}")
    key = "features.denseblock1.denselayer1.conv2.weight"
    torch.testing.assert_close(body.net.state_dict()[key], state[key])


def test_versioned_mnasnet_checkpoint_keeps_its_metadata(hub_cache: Path) -> None:
    """MNASNet refuses a state dict without its version metadata; the source must hand it over untouched."""
    state = models.mnasnet0_5().state_dict()
    name = save_checkpoint(hub_cache, "mnasnet0_5", state)
    body = graftzoo.create_body("torchvision/mnasnet0_5", weights=f"torchvision:{name}")
    torch.testing.assert_close(body.net.layers.get_submodule("0").weight, state["layers.0.weight"])


def test_googlenet_loads_a_checkpoint_with_aux_heads(hub_cache: Path) -> None:
    """torchvision's GoogLeNet checkpoint holds aux1/aux2: the registered factory must accept them before the cut."""
    pretrained_like = models.googlenet(aux_logits=True, transform_input=True, init_weights=False).state_dict()
    assert any(k.startswith("aux1.") for k in pretrained_like)
    name = save_checkpoint(hub_cache, "googlenet", pretrained_like)
    body = graftzoo.create_body("torchvision/googlenet", weights=f"torchvision:{name}")
    assert "transform_input" in dict(body.net.named_children())
    torch.testing.assert_close(body.net.conv1.conv.weight, pretrained_like["conv1.conv.weight"])
