"""Tests for the DynamicUnet building blocks."""

from __future__ import annotations

import copy
from collections import OrderedDict

import pytest
import torch
import torchvision
from torch import nn

from graftzoo_vision.layers import SelfAttention, SigmoidRange
from graftzoo_vision.unet import (
    DynamicUnet,
    ResizeToOrig,
    UnetBlock,
    in_channels,
    size_change_indices,
    stage_outputs,
)
from graftzoo_vision.xresnet import xresnet18


def _xresnet18_body() -> nn.Sequential:
    return nn.Sequential(*list(xresnet18().children())[:-4])


def _resnet18_body() -> nn.Sequential:
    return nn.Sequential(*list(torchvision.models.resnet18().children())[:-2])


BODIES = {"xresnet18": _xresnet18_body, "resnet18": _resnet18_body}


def test_size_change_indices_like_fastai():
    assert size_change_indices([[3, 64, 64], [16, 64, 64], [32, 32, 32], [16, 32, 32], [32, 32, 32],
                                [16, 16]]) == [1, 4]
    assert size_change_indices([[3, 64, 64], [16, 32, 32], [32, 32, 32], [16, 32, 32], [32, 16, 16],
                                [16, 16]]) == [0, 3]
    assert size_change_indices([[3, 64, 64]]) == []
    assert size_change_indices([[3, 64, 64], [16, 32, 32]]) == [0]


def test_stage_outputs_per_child_and_hooks_removed():
    enc = nn.Sequential(OrderedDict(conv=nn.Conv2d(3, 8, 3, stride=2, padding=1), act=nn.ReLU(),
                                    pool=nn.MaxPool2d(2)))
    outs = stage_outputs(enc, torch.randn(1, 3, 16, 16))
    assert [tuple(o.shape) for o in outs] == [(1, 8, 8, 8), (1, 8, 8, 8), (1, 8, 4, 4)]
    assert all(not m._forward_hooks for m in enc.modules())
    assert in_channels(enc) == 3
    with pytest.raises(ValueError):
        in_channels(nn.Sequential(nn.ReLU()))


def test_unet_block_shapes_and_odd_skip():
    block = UnetBlock(64, 32)
    assert block.out_channels == 64
    out = block(torch.randn(2, 64, 4, 4), torch.randn(2, 32, 7, 7))  # 4 -> 8, resized to the skip's 7
    assert out.shape == (2, 64, 7, 7)
    last = UnetBlock(64, 32, final_div=False, self_attention=True, blur=True)
    assert last.out_channels == 32 and isinstance(last.conv2.xtra, SelfAttention)
    assert last(torch.randn(1, 64, 4, 4), torch.randn(1, 32, 8, 8)).shape == (1, 32, 8, 8)


def test_resize_to_orig():
    resize = ResizeToOrig()
    x = torch.randn(1, 2, 6, 6)
    assert resize(x, torch.randn(1, 3, 5, 7)).shape == (1, 2, 5, 7)
    assert resize(x, torch.randn(1, 3, 6, 6)) is x


@pytest.mark.parametrize("size", [64, 96, 100])
@pytest.mark.parametrize("body", sorted(BODIES))
def test_dynamic_unet_output_matches_input_size(body, size):
    unet = DynamicUnet(BODIES[body](), n_out=4, img_size=size)
    assert unet.skip_idxs == (6, 5, 4, 2)
    assert unet(torch.randn(1, 3, size, size)).shape == (1, 4, size, size)


def test_dynamic_unet_other_sizes_than_built_for():
    unet = DynamicUnet(_xresnet18_body(), n_out=2, img_size=(96, 64))
    assert unet(torch.randn(1, 3, 96, 64)).shape == (1, 2, 96, 64)
    assert unet.eval()(torch.randn(1, 3, 75, 101)).shape == (1, 2, 75, 101)


def test_dynamic_unet_channels_like_fastai():
    # fastai issue #2965: resnet18 at 128px, 3 outputs -> decoder channels [.., 384, 256, 96], 99 after the cross
    unet = DynamicUnet(_resnet18_body(), n_out=3, img_size=128)
    assert [b.out_channels for b in unet.blocks] == [512, 384, 256, 96]
    assert unet.middle_conv.conv_0.conv.out_channels == 1024
    assert unet.final_conv.conv.in_channels == 99 and unet.final_conv.conv.out_channels == 3
    assert isinstance(unet.final_shuf, nn.Module) and not isinstance(unet.final_shuf, nn.Identity)
    assert not hasattr(unet.blocks[0].conv1, "norm")  # decoder convs have no norm by default


def test_dynamic_unet_options():
    unet = DynamicUnet(_xresnet18_body(), n_out=2, img_size=64, self_attention=True, y_range=(-1.0, 1.0),
                       bottle=True, blur=True)
    assert [hasattr(b.conv2, "xtra") for b in unet.blocks] == [False, True, False, False]
    assert isinstance(unet.y_range, SigmoidRange)
    out = unet(torch.randn(1, 3, 64, 64))
    assert out.shape == (1, 2, 64, 64) and bool((out.abs() < 1).all())
    plain = DynamicUnet(_xresnet18_body(), n_out=2, img_size=64, last_cross=False)
    assert not hasattr(plain, "cross") and plain.final_conv.conv.in_channels == 96
    assert plain(torch.randn(1, 3, 64, 64)).shape == (1, 2, 64, 64)


def test_dynamic_unet_gradients_mode_and_copy():
    body = _resnet18_body().train()
    unet = DynamicUnet(body, n_out=1, img_size=64)
    assert body.training  # probing in eval mode leaves the mode as it was
    assert all(not m._forward_hooks for m in body.modules())
    unet(torch.randn(1, 3, 64, 64)).mean().backward()
    assert next(body.parameters()).grad is not None and unet.final_conv.conv.weight.grad is not None
    twin = copy.deepcopy(unet).eval()
    x = torch.randn(1, 3, 32, 32)
    torch.testing.assert_close(twin(x), unet.eval()(x))
    groups = [list(unet.encoder.parameters()), [p for m in unet.head_modules() for p in m.parameters()]]
    assert sum(len(g) for g in groups) == len(list(unet.parameters()))


def test_dynamic_unet_needs_sequential_encoder():
    with pytest.raises(TypeError):
        DynamicUnet(torchvision.models.resnet18(), n_out=1, img_size=64)
