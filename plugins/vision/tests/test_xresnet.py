"""Tests for the XResNet family and its splitter."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
import torchvision
from torch import nn

from graftzoo_vision.layers import ConvLayer, ResBlock
from graftzoo_vision.xresnet import (
    XResNet,
    xresnet18,
    xresnet34,
    xresnet50,
    xresnet101,
    xresnet152,
    xresnet_split,
)

NAMES = ["stem_0", "stem_1", "stem_2", "stem_pool", "stage_0", "stage_1", "stage_2", "stage_3",
         "pool", "flatten", "dropout", "fc"]
# the 3-conv stem (3->32->32->64 + 3 BNs) has 19,232 more parameters than torchvision's 7x7 stem;
# everything else matches torchvision's ResNet (1x1 conv + BN shortcuts, same widths).
STEM_EXTRA = (3 * 32 * 9 + 32 * 32 * 9 + 32 * 64 * 9 + 2 * (32 + 32 + 64)) - (64 * 3 * 49 + 2 * 64)
FAMILY = [
    (xresnet18, torchvision.models.resnet18, 1, [2, 2, 2, 2]),
    (xresnet34, torchvision.models.resnet34, 1, [3, 4, 6, 3]),
    (xresnet50, torchvision.models.resnet50, 4, [3, 4, 6, 3]),
    (xresnet101, torchvision.models.resnet101, 4, [3, 4, 23, 3]),
    (xresnet152, torchvision.models.resnet152, 4, [3, 8, 36, 3]),
]


def _n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def _body(model: nn.Module) -> nn.Sequential:
    """fastai's cut=-4, keeping the child names."""
    return nn.Sequential(OrderedDict(list(model.named_children())[:-4]))


@pytest.fixture(scope="module")
def net18() -> XResNet:
    return xresnet18()


def test_named_children(net18):
    assert [name for name, _ in net18.named_children()] == NAMES
    assert isinstance(net18.stem_pool, nn.MaxPool2d) and isinstance(net18.fc, nn.Linear)


def test_stem_sizes_and_strides(net18):
    stem = [net18.stem_0, net18.stem_1, net18.stem_2]
    assert [(s.conv.in_channels, s.conv.out_channels, s.conv.stride) for s in stem] == \
        [(3, 32, (2, 2)), (32, 32, (1, 1)), (32, 64, (1, 1))]
    assert xresnet18(c_in=1).stem_0.conv.in_channels == 1


@pytest.mark.parametrize("factory, tv_factory, expansion, blocks", FAMILY)
def test_structure_and_param_counts(factory, tv_factory, expansion, blocks):
    net = factory(n_out=1000)
    stages = [net.stage_0, net.stage_1, net.stage_2, net.stage_3]
    assert [len(s) for s in stages] == blocks
    assert net.fc.in_features == 512 * expansion
    assert _n_params(net) == _n_params(tv_factory()) + STEM_EXTRA


def test_xresnet18_param_count(net18):
    assert _n_params(net18) == 11_708_744  # ~11.7M


def test_forward_shapes(net18):
    x = torch.randn(2, 3, 64, 64)
    assert net18(x).shape == (2, 1000)
    assert xresnet34(n_out=7)(x).shape == (2, 7)
    assert xresnet18(n_out=3, c_in=1)(torch.randn(2, 1, 50, 70)).shape == (2, 3)


@pytest.mark.parametrize("factory, channels", [(xresnet18, 512), (xresnet34, 512), (xresnet50, 2048)])
def test_cut_body_channels(factory, channels):
    body = nn.Sequential(*list(factory().children())[:-4])
    assert body(torch.randn(1, 3, 64, 64)).shape == (1, channels, 2, 2)


def test_init_like_fastai(net18):
    blocks = [m for m in net18.modules() if isinstance(m, ResBlock)]
    assert len(blocks) == 8
    for block in blocks:
        last = list(block.convpath.children())[-1]
        assert torch.all(last.norm.weight == 0)  # BatchZero on the residual branch
    first = list(blocks[0].convpath.children())[0]
    assert torch.all(first.norm.weight == 1)
    biases = [m.bias for m in net18.modules() if isinstance(getattr(m, "bias", None), torch.Tensor)]
    assert all(torch.all(b == 0) for b in biases)
    # kaiming normal, fan_in: std = sqrt(2 / fan_in)
    w = net18.stage_3.block_0.convpath.conv_0.conv.weight
    assert abs(w.std().item() - (2 / (256 * 9)) ** 0.5) < 0.002


def test_strided_stages_use_avg_pool_shortcut(net18):
    idpath = net18.stage_1.block_0.idpath
    assert [name for name, _ in idpath.named_children()] == ["pool", "conv"]
    assert isinstance(idpath.pool, nn.AvgPool2d)
    assert [name for name, _ in net18.stage_0.block_0.idpath.named_children()] == []
    assert [name for name, _ in xresnet50().stage_0.block_0.idpath.named_children()] == ["conv"]


def _check_covers(groups: list[list[nn.Module]], model: nn.Module) -> None:
    seen = [id(p) for g in groups for m in g for p in m.parameters()]
    assert len(seen) == len(set(seen))
    assert set(seen) == {id(p) for p in model.parameters()}


def test_split_body_matches_fastai_groups(net18):
    for body in (_body(net18), nn.Sequential(*list(net18.children())[:-4])):
        groups = xresnet_split(body)
        assert len(groups) == 2
        assert [type(m) for m in groups[0]] == [ConvLayer] * 3
        assert isinstance(groups[1][0], nn.MaxPool2d) and len(groups[1]) == 5
        _check_covers(groups, body)


def test_split_whole_model(net18):
    groups = xresnet_split(net18)
    assert [len(g) for g in groups] == [3, 5, 4]
    assert groups[2][-1] is net18.fc
    _check_covers(groups, net18)
    body50 = _body(xresnet50())
    _check_covers(xresnet_split(body50), body50)


def test_split_rejects_other_models():
    with pytest.raises(ValueError):
        xresnet_split(nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()))
