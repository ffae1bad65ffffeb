"""Tests for the generic vision layers and the classification head."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from graftzoo.errors import ConfigError
from graftzoo_vision.classify_head import create_head
from graftzoo_vision.layers import (
    AdaptiveConcatPool2d,
    ConvLayer,
    LinBnDrop,
    NormType,
    PixelShuffle_ICNR,
    ResBlock,
    SelfAttention,
    SigmoidRange,
    apply_init,
    icnr_init,
    init_cnn,
)


def _names(m: nn.Module) -> list[str]:
    return [name for name, _ in m.named_children()]


def test_adaptive_concat_pool_is_max_then_avg():
    x = torch.randn(2, 5, 7, 6)
    out = AdaptiveConcatPool2d()(x)
    assert out.shape == (2, 10, 1, 1)
    torch.testing.assert_close(out[:, :5, 0, 0], x.amax(dim=(2, 3)))
    torch.testing.assert_close(out[:, 5:, 0, 0], x.mean(dim=(2, 3)))
    assert AdaptiveConcatPool2d(2)(x).shape == (2, 10, 2, 2)


def test_sigmoid_range():
    out = SigmoidRange(-1.0, 3.0)(torch.tensor([-100.0, 0.0, 100.0]))
    torch.testing.assert_close(out, torch.tensor([-1.0, 1.0, 3.0]))


def test_conv_layer_order_bias_and_norm_init():
    layer = ConvLayer(3, 8)
    assert _names(layer) == ["conv", "norm", "act"]
    assert layer.conv.bias is None and layer.conv.padding == (1, 1)
    assert torch.all(layer.norm.weight == 1) and torch.allclose(layer.norm.bias, torch.full((8,), 1e-3))
    assert _names(ConvLayer(3, 8, bn_1st=False)) == ["conv", "act", "norm"]
    zero = ConvLayer(3, 8, norm_type=NormType.BatchZero, act_cls=None)
    assert _names(zero) == ["conv", "norm"] and torch.all(zero.norm.weight == 0)
    plain = ConvLayer(3, 8, norm_type=None)
    assert _names(plain) == ["conv", "act"] and plain.conv.bias is not None
    assert isinstance(ConvLayer(3, 8, norm_type=NormType.Instance).norm, nn.InstanceNorm2d)
    assert ConvLayer(3, 8, stride=2)(torch.randn(1, 3, 9, 9)).shape == (1, 8, 5, 5)


def test_conv_layer_ndim_transpose_and_parametrized_norms():
    assert isinstance(ConvLayer(3, 4, ndim=1).conv, nn.Conv1d)
    assert isinstance(ConvLayer(3, 4, ndim=3).norm, nn.BatchNorm3d)
    up = ConvLayer(3, 4, ks=2, stride=2, transpose=True)
    assert up(torch.randn(1, 3, 5, 5)).shape == (1, 4, 10, 10)
    for norm_type in (NormType.Weight, NormType.Spectral):
        layer = ConvLayer(3, 4, norm_type=norm_type)
        assert parametrize.is_parametrized(layer.conv, "weight")
        assert _names(layer) == ["conv", "act"]
    xtra = ConvLayer(3, 4, xtra=nn.Identity())
    assert _names(xtra)[-1] == "xtra"


def test_conv_layer_refuses_an_init_name_other_than_auto() -> None:
    with pytest.raises(ConfigError, match="init must be 'auto'.*'kaiming'"):
        ConvLayer(3, 4, init="kaiming")


def test_lin_bn_drop_orders():
    block = LinBnDrop(10, 4, p=0.2, act=nn.ReLU())
    assert _names(block) == ["bn", "drop", "lin", "act"]
    assert block.bn.num_features == 10 and block.lin.bias is None
    first = LinBnDrop(10, 4, p=0.2, act=nn.ReLU(), lin_first=True)
    assert _names(first) == ["lin", "act", "bn", "drop"] and first.bn.num_features == 4
    bare = LinBnDrop(10, 4, bn=False)
    assert _names(bare) == ["lin"] and bare.lin.bias is not None


def test_res_block_identity_at_init():
    block = ResBlock(1, 16, 16).eval()
    assert _names(block.idpath) == []
    assert torch.all(block.convpath.conv_1.norm.weight == 0)
    x = torch.randn(2, 16, 8, 8)
    # the zero-init last norm makes the residual branch a constant 1e-3
    torch.testing.assert_close(block(x), torch.relu(x + 1e-3))


def test_res_block_stride_and_bottleneck():
    block = ResBlock(4, 16, 32, stride=2)
    assert _names(block.convpath) == ["conv_0", "conv_1", "conv_2"]
    assert _names(block.idpath) == ["pool", "conv"]
    assert isinstance(block.idpath.pool, nn.AvgPool2d) and block.idpath.pool.ceil_mode
    assert block(torch.randn(2, 64, 7, 7)).shape == (2, 128, 4, 4)
    assert _names(ResBlock(1, 8, 16, stride=2, pool_first=False).idpath) == ["conv", "pool"]


def test_self_attention_starts_as_identity():
    sa = SelfAttention(16)
    x = torch.randn(2, 16, 5, 4)
    torch.testing.assert_close(sa(x), x)
    sa.gamma.data.fill_(1.0)
    out = sa(x)
    assert out.shape == x.shape and not torch.allclose(out, x)
    out.sum().backward()
    assert sa.gamma.grad is not None


def test_icnr_init_repeats_kernels_per_subpixel_group():
    w = icnr_init(torch.empty(16, 3, 1, 1), scale=2)
    assert w.shape == (16, 3, 1, 1)
    for group in w.view(4, 4, 3):
        assert torch.equal(group, group[:1].expand_as(group))
    assert not torch.equal(w[0], w[4])


@pytest.mark.parametrize("norm_type", [NormType.Weight, None])
def test_pixel_shuffle_icnr_upsamples_without_checkerboard(norm_type):
    up = PixelShuffle_ICNR(6, 4, norm_type=norm_type)
    assert _names(up) == ["conv", "shuffle"]
    out = up(torch.randn(2, 6, 5, 7))
    assert out.shape == (2, 4, 10, 14)
    # ICNR: every 2x2 output block comes from one kernel, so it is constant at init
    blocks = out.view(2, 4, 5, 2, 7, 2)
    torch.testing.assert_close(blocks, blocks[:, :, :, :1, :, :1].expand_as(blocks))
    blurred = PixelShuffle_ICNR(6, blur=True)
    assert _names(blurred) == ["conv", "shuffle", "pad", "blur"]
    assert blurred(torch.randn(1, 6, 5, 7)).shape == (1, 6, 10, 14)


def test_init_cnn_and_apply_init():
    net = nn.Sequential(OrderedDict(conv=nn.Conv2d(3, 4, 3), bn=nn.BatchNorm2d(4), fc=nn.Linear(4, 2)))
    init_cnn(net)
    assert all(torch.all(m.bias == 0) for m in net)
    net.bn.weight.data.fill_(0.5)
    net.fc.bias.data.fill_(0.5)
    apply_init(net)
    assert torch.all(net.bn.weight == 0.5)  # norms are left alone
    assert torch.all(net.fc.bias == 0)


def _summary(head: nn.Sequential) -> list[tuple]:
    rows = []
    for m in head.children():
        shape = (m.in_features, m.out_features, m.bias is not None) if isinstance(m, nn.Linear) else \
            m.num_features if isinstance(m, nn.BatchNorm1d) else m.p if isinstance(m, nn.Dropout) else None
        rows.append((type(m).__name__, shape))
    return rows


def test_create_head_matches_fastai_printout():
    # fastai book ch. 15: create_head(20, 2)
    expected = [("AdaptiveConcatPool2d", None), ("Flatten", None), ("BatchNorm1d", 40), ("Dropout", 0.25),
                ("Linear", (40, 512, False)), ("ReLU", None), ("BatchNorm1d", 512), ("Dropout", 0.5),
                ("Linear", (512, 2, False))]
    head = create_head(20, 2)
    assert _summary(head) == expected
    assert head(torch.randn(3, 20, 4, 4)).shape == (3, 2)
    # fastai book ch. 15: create_head(512*2, 2, ps=0.5) starts with BatchNorm1d(2048)
    assert create_head(512 * 2, 2, ps=0.5).bn_0.num_features == 2048


def test_create_head_without_pooling_takes_pooled_features():
    head = create_head(20, 3, pool=False)
    assert _names(head)[:2] == ["flatten", "bn_0"] and head.bn_0.num_features == 20
    assert head(torch.randn(4, 20)).shape == (4, 3)
    avg = create_head(20, 3, concat_pool=False)
    assert isinstance(avg.pool, nn.AdaptiveAvgPool2d) and avg.bn_0.num_features == 20


def test_create_head_options():
    head = create_head(8, 5, lin_ftrs=[32, 16], ps=[0.1, 0.2, 0.3], first_bn=False, bn_final=True,
                       y_range=(0.0, 2.0))
    lins = [m for m in head if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in lins] == [(16, 32), (32, 16), (16, 5)]
    assert lins[0].bias is not None and lins[1].bias is None  # no BN before the first linear
    assert [m.p for m in head if isinstance(m, nn.Dropout)] == [0.1, 0.2, 0.3]
    assert _names(head)[-2:] == ["bn_final", "y_range"] and head.bn_final.momentum == 0.01
    out = head.eval()(torch.randn(2, 8, 3, 3))
    assert out.shape == (2, 5) and bool(((out > 0) & (out < 2)).all())
    assert [m.p for m in create_head(8, 5, lin_ftrs=[32, 16]) if isinstance(m, nn.Dropout)] == [0.25, 0.25, 0.5]
    with pytest.raises(ValueError):
        create_head(8, 5, ps=[0.1, 0.2, 0.3])


def test_create_head_lin_first():
    head = create_head(10, 3, lin_first=True)
    assert _names(head) == ["pool", "flatten", "drop_in", "lin_0", "act_0", "bn_0", "drop_0", "lin_out"]
    assert head.drop_in.p == 0.25 and head.drop_0.p == 0.5 and head.bn_0.num_features == 512
    assert head(torch.randn(2, 10, 2, 2)).shape == (2, 3)
