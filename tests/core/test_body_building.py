"""Cutting, first-layer adaptation and grafting, on the xresnet family (no downloads)."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

import graftzoo
from graftzoo.cutting import cut_model
from graftzoo.errors import ConfigError
from graftzoo.first_layer import adapt_first_conv


def test_cut_keeps_child_names_and_default_cuts_before_last_pool() -> None:
    model = nn.Sequential()
    model.add_module("conv", nn.Conv2d(3, 4, 3))
    model.add_module("pool", nn.AdaptiveAvgPool2d(1))
    model.add_module("fc", nn.Linear(4, 2))
    assert [n for n, _ in cut_model(model, -1).named_children()] == ["conv", "pool"]
    assert [n for n, _ in cut_model(model, None).named_children()] == ["conv"]
    with pytest.raises(ConfigError, match="leaves nothing"):
        cut_model(model, -3)


@pytest.mark.parametrize("n_in", [1, 2, 4])
def test_first_layer_follows_fastai(n_in: int) -> None:
    net = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.ReLU())
    original = net[0].weight.detach().clone()
    adapt_first_conv(net, n_in, pretrained=True)
    weight = net[0].weight.detach()
    assert weight.shape == (8, n_in, 3, 3)
    if n_in == 1:
        assert torch.allclose(weight, original.sum(dim=1, keepdim=True))
    elif n_in == 2:
        assert torch.allclose(weight, original[:, :2] * 1.5)
    else:
        assert torch.equal(weight[:, :3], original) and not weight[:, 3:].any()


def test_body_reports_features_and_stages() -> None:
    body = graftzoo.create_body("vision/xresnet18")
    assert body.num_features == 512
    out = body(torch.randn(2, 3, 64, 64))
    assert out.shape == (2, 512, 2, 2)
    assert [s["reduction"] for s in body.feature_info] == [2, 4, 8, 16, 32]
    assert body.feature_info[-1]["num_chs"] == 512
    assert body.stats == ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


@pytest.mark.parametrize("n_in", [1, 3, 4])
def test_graft_classify_and_rebuild_from_config(n_in: int) -> None:
    model = graftzoo.graft("xresnet18", "classify", n_out=7, n_in=n_in, lin_ftrs=[32], y_range=[0, 1])
    assert model(torch.randn(2, n_in, 48, 48)).shape == (2, 7)
    groups = model.param_groups()
    assert len(groups) == 3
    assert sum(len(g) for g in groups) == len(list(model.parameters()))
    config = json.loads(json.dumps(model.config))
    rebuilt = graftzoo.from_config(config)
    assert [(n, p.shape) for n, p in rebuilt.named_parameters()] == [(n, p.shape) for n, p in model.named_parameters()]


def test_custom_cut_is_honoured_and_still_splits() -> None:
    model = graftzoo.graft("xresnet18", n_out=2, cut=-5)  # also drops the last stage
    assert model.body.num_features == 256
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 2)
    assert len(model.param_groups()) >= 3


def test_head_kwargs_must_be_json() -> None:
    with pytest.raises(ConfigError, match="plain JSON"):
        graftzoo.graft("xresnet18", n_out=2, act_cls=nn.ReLU)


def test_bad_n_out() -> None:
    with pytest.raises(ConfigError, match="n_out"):
        graftzoo.graft("xresnet18", n_out=0)
