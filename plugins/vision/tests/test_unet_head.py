"""The `unet` head: output sizes on several bodies, parity with DynamicUnet, no shared parameters, split."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import torch
from torch import nn

import graftzoo
from graftzoo.body import Body
from graftzoo.errors import ConfigError, GraftzooError
from graftzoo.spec import IMAGENET_STATS, ArchSpec
from graftzoo_vision.unet import DynamicUnet
from graftzoo_vision.unet_head import UnetHead, unet_head


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread: None) -> None:
    """Every test here on one torch thread, seed 0 (graftzoo.testing's fixture)."""


def tv_resnet18() -> str | ArchSpec:
    """torchvision's resnet18 from its plugin, or the same arch spelled out when the plugin is absent."""
    try:
        return graftzoo.get_arch("torchvision/resnet18")
    except GraftzooError:
        return ArchSpec(name="test/resnet18", factory="torchvision.models:resnet18", cut=-2, stats=IMAGENET_STATS)


ARCHS: dict[str, Any] = {"xresnet18": "vision/xresnet18", "resnet18": tv_resnet18, "timm_lcnet": "timm/lcnet_035"}
_MODELS: dict[str, Any] = {}


def model(name: str) -> Any:
    """One grafted U-Net per arch for the whole module (building them is the slow part)."""
    if name not in _MODELS:
        arch = ARCHS[name]() if callable(ARCHS[name]) else ARCHS[name]
        torch.manual_seed(0)
        _MODELS[name] = graftzoo.graft(arch, "unet", n_out=3, img_size=64).eval()
    return _MODELS[name]


@pytest.mark.parametrize("name", list(ARCHS))
@pytest.mark.parametrize("size", [(64, 64), (96, 96), (100, 100), (64, 96), (37, 53)])
def test_output_has_the_input_size(name: str, size: tuple[int, int]) -> None:
    with torch.no_grad():
        out = model(name)(torch.randn(2, 3, *size))
    assert out.shape == (2, 3, *size)
    assert torch.isfinite(out).all()


def test_taps_are_the_last_layer_at_each_resolution() -> None:
    assert [t.name for t in model("resnet18").head.taps] == ["relu", "layer1", "layer2", "layer3"]
    assert [t.channels for t in model("resnet18").head.taps] == [64, 64, 128, 256]
    timm_taps = model("timm_lcnet").head.taps  # from feature_info: the stages below the deepest
    stages = model("timm_lcnet").body.feature_info
    assert [t.name for t in timm_taps] == [s["module"] for s in stages[:-1]]


def test_same_outputs_as_dynamic_unet_on_a_sequential_body() -> None:
    grafted = model("xresnet18")
    assert isinstance(grafted.head, UnetHead)
    unet = DynamicUnet(copy.deepcopy(grafted.body.net), 3, (64, 64)).eval()
    state = {f"encoder.{k}": v for k, v in grafted.body.net.state_dict().items()} | grafted.head.state_dict()
    unet.load_state_dict(state)  # strict: the head's keys are exactly DynamicUnet's decoder keys
    for size in (64, 100):
        x = torch.randn(2, 3, size, size)
        with torch.no_grad():
            assert torch.allclose(grafted(x), unet(x), atol=1e-5)


@pytest.mark.parametrize("name", ["xresnet18", "timm_lcnet"])
def test_body_parameters_live_only_in_the_body(name: str) -> None:
    grafted = model(name)
    head_ids = {id(p) for p in grafted.head.parameters()}
    assert not head_ids & {id(p) for p in grafted.body.parameters()}
    keys = list(grafted.state_dict())
    assert all(k.startswith(("body.", "head.")) for k in keys)
    assert len(keys) == len(grafted.body.state_dict()) + len(grafted.head.state_dict())


@pytest.mark.parametrize("name", list(ARCHS))
def test_split_puts_body_groups_before_the_decoder(name: str) -> None:
    grafted = model(name)
    groups = grafted.param_groups()  # checked: every parameter exactly once
    body_groups = grafted.body.param_groups()
    assert len(groups) == len(body_groups) + 1 >= 3
    assert [[id(p) for p in g] for g in groups[:-1]] == [[id(p) for p in g] for g in body_groups]
    assert {id(p) for p in groups[-1]} == {id(p) for p in grafted.head.parameters()}


def test_no_hooks_are_left_on_the_body() -> None:
    grafted = model("xresnet18")
    with torch.no_grad():
        grafted(torch.randn(1, 3, 64, 64))
    assert all(not m._forward_hooks for m in grafted.body.modules())


def test_kwargs_are_json_and_rebuild_the_same_head() -> None:
    torch.manual_seed(0)
    grafted = graftzoo.graft("vision/xresnet18", "unet", n_out=2, img_size=(48, 64), y_range=(0, 1), bottle=True)
    kwargs = grafted.config["head_kwargs"]
    assert kwargs == {"img_size": [48, 64], "y_range": [0, 1], "bottle": True}
    rebuilt = graftzoo.from_config(grafted.config)
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {k: v.shape for k, v in grafted.state_dict().items()}


def test_options_blur_attention_range_and_no_cross() -> None:
    body = model("xresnet18").body
    head = unet_head(body, 1, img_size=[64, 64], blur=True, self_attention=True, y_range=[-1.0, 2.0], last_cross=False)
    assert not hasattr(head, "cross") and any("attn" in n or "query" in n for n, _ in head.named_parameters())
    with torch.no_grad():
        out = head.eval().graft_forward(body, torch.randn(2, 3, 50, 70))
    assert out.shape == (2, 1, 50, 70) and out.min() > -1.0 and out.max() < 2.0


def test_the_head_can_be_sized_on_the_meta_device() -> None:
    body = model("xresnet18").body
    with torch.device("meta"):
        head = unet_head(body, 3, img_size=[64, 64])
    assert all(p.device.type == "meta" for p in head.parameters())
    assert all(p.device.type == "cpu" for p in body.parameters())
    real = model("xresnet18").head
    assert {k: v.shape for k, v in head.state_dict().items()} == {k: v.shape for k, v in real.state_dict().items()}


def test_a_pooled_body_is_refused_with_advice() -> None:
    spec = ArchSpec(name="test/pooled", factory="torch.nn:Identity", pooled=True)
    body = Body(nn.Sequential(nn.Conv2d(3, 8, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten()), spec=spec)
    with pytest.raises(ConfigError, match="feature maps"):
        unet_head(body, 2)


def test_bad_img_size_is_refused() -> None:
    with pytest.raises(ConfigError, match="img_size"):
        unet_head(model("xresnet18").body, 2, img_size=[64, 64, 3])



class Permute(nn.Module):
    def __init__(self, *dims: int) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(*self.dims)


class ChannelsLastStages(nn.Module):
    """A non-sequential net whose first two stages output (B, H, W, C), as some timm models do."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), Permute(0, 2, 3, 1))
        self.stage1 = nn.Sequential(Permute(0, 3, 1, 2), nn.Conv2d(8, 16, 3, 2, 1), Permute(0, 2, 3, 1))
        self.stage2 = nn.Sequential(Permute(0, 3, 1, 2), nn.Conv2d(16, 32, 3, 2, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stage2(self.stage1(self.stem(x)))


def test_feature_info_stages_of_a_non_sequential_body_with_nhwc_maps() -> None:
    info = [{"module": "stem", "num_chs": 8, "reduction": 2, "layout": "NHWC"},
            {"module": "stage1", "num_chs": 16, "reduction": 4, "layout": "NHWC"},
            {"module": "stage2", "num_chs": 32, "reduction": 8}]
    body = Body(ChannelsLastStages(), spec=ArchSpec(name="test/nhwc", factory="torch.nn:Identity"), feature_info=info)
    head = unet_head(body, 2, img_size=32)
    assert [(t.name, t.channels, t.nhwc) for t in head.taps] == [("stem", 8, True), ("stage1", 16, True)]
    with torch.no_grad():
        assert head.eval().graft_forward(body, torch.randn(2, 3, 40, 36)).shape == (2, 2, 40, 36)
    wrong = [{"module": "nowhere", "num_chs": 8, "reduction": 2}, *info]
    with pytest.raises(ConfigError, match="nowhere"):
        unet_head(Body(ChannelsLastStages(), spec=body.spec, feature_info=wrong), 2)


@pytest.mark.parametrize("arch", ["torchvision/densenet121", "torchvision/efficientnet_b0", "torchvision/vgg11_bn"])
def test_unet_on_bodies_that_are_one_features_sequential(arch: str) -> None:
    """torchvision bodies cut to a lone `features` Sequential still give one skip per resolution."""
    body = graftzoo.create_body(arch)
    assert [s["reduction"] for s in body.feature_info][-5:] == [2, 4, 8, 16, 32]
    unet = graftzoo.graft(arch, "unet", n_out=2, img_size=64).eval()
    assert len(unet.head.taps) >= 4
    with torch.no_grad():
        assert unet(torch.randn(1, 3, 70, 50)).shape == (1, 2, 70, 50)
