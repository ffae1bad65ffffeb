"""Adapters go on the layers the arch family names (or the user's), and on nothing else."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import nn

import graftzoo
from graftzoo.adapters import LoRA
from graftzoo.errors import ConfigError

FAMILY_DEFAULT = [  # timm's efficientnet family: every ungrouped pointwise conv, and conv_head
    "model.blocks.1.0.conv_pwl", "model.blocks.2.0.conv_pwl", "model.blocks.3.0.conv_pw", "model.blocks.3.0.conv_pwl",
    "model.blocks.4.0.conv_pw", "model.blocks.4.0.conv_pwl", "model.conv_head",
]


def adapted(model: Any) -> list[str]:
    from peft.tuners.lora import LoraLayer

    return [name for name, m in model.body.net.named_modules() if isinstance(m, LoraLayer)]


def test_family_default_adapts_exactly_its_layers_and_starts_as_a_no_op(make_model: Callable[..., Any], images: torch.Tensor) -> None:
    plain, model = make_model().eval(), make_model(adapters=LoRA(r=4)).eval()
    assert adapted(model) == FAMILY_DEFAULT
    assert model.adapters is not None and model.adapters["target_modules"] == FAMILY_DEFAULT
    with torch.no_grad():
        assert torch.equal(plain(images), model(images))  # lora_B starts at zero
    trainable = {n for n, p in model.body.named_parameters() if p.requires_grad}
    lora = {n for n in trainable if ".lora_" in n}
    assert {n.split(".lora_")[0] for n in lora} == {f"net.{t}" for t in FAMILY_DEFAULT}
    bn = {f"net.{n}.{k}" for n, m in model.body.net.named_modules() if isinstance(m, nn.BatchNorm2d) for k in ("weight", "bias")}
    assert trainable == lora | bn  # the base weights are locked; BatchNorm's affine parameters train (batch_norm="affine")
    frozen_bn = make_model(adapters=LoRA(r=4, batch_norm="frozen"))
    assert {n for n, p in frozen_bn.body.named_parameters() if p.requires_grad} == lora  # BatchNorm locked too


@pytest.mark.parametrize("arch", ["torchvision/resnet18", "timm/resnet10t"])
def test_resnets_adapt_every_ungrouped_conv_by_default(arch: str) -> None:
    """The ResNet families' manifest default: the stem's, every block's and every downsampling conv, nothing else."""
    plain = graftzoo.graft(arch, "classify", n_out=2, weights=None)
    convs = [n for n, m in plain.body.net.named_modules() if type(m) is nn.Conv2d]
    model = graftzoo.graft(arch, "classify", n_out=2, weights=None, adapters=LoRA(r=2))
    assert convs and adapted(model) == convs
    assert any("downsample" in n for n in convs) and ".layer" not in f".{convs[0]}"  # the stem comes first


def test_user_targets_override_the_default(make_model: Callable[..., Any]) -> None:
    model = make_model(adapters=LoRA(r=2, target_modules=("model.conv_head", "model.blocks.4.*.conv_p*")))
    assert adapted(model) == ["model.blocks.4.0.conv_pw", "model.blocks.4.0.conv_pwl", "model.conv_head"]


@pytest.mark.parametrize("target", ["model.blocks.9.*", "model.blocks.3.0.conv_dw", "model.blocks.3.0.bn1"])
def test_a_target_naming_no_adaptable_layer_is_a_clear_error(make_model: Callable[..., Any], target: str) -> None:
    """A typo, a depthwise conv or a BatchNorm: refused by name, before any adapter exists."""
    with pytest.raises(ConfigError, match="names no Conv2d/Linear layer") as info:
        make_model(adapters=LoRA(target_modules=(target,)))
    assert target in str(info.value)


def test_without_a_manifest_default_the_last_body_group_is_adapted() -> None:
    spec = dataclasses.replace(graftzoo.get_arch("timm/test_efficientnet"), lora_targets=None)
    plain = graftzoo.create_body(spec)
    last_group = {id(p) for p in plain.param_groups()[-1]}
    expected = [n for n, m in plain.net.named_modules()
                if type(m) in (nn.Conv2d, nn.Linear) and getattr(m, "groups", 1) == 1 and id(m.weight) in last_group]
    model = graftzoo.graft(spec, "classify", n_out=2, adapters=LoRA(r=2))
    assert adapted(model) == expected
    assert "model.conv_head" in expected and "model.blocks.3.0.conv_pw" not in expected  # block 3 sits in an earlier group


def test_adapters_twice_is_an_error(make_model: Callable[..., Any]) -> None:
    model = make_model(adapters=LoRA(r=2))
    with pytest.raises(ConfigError, match="already has adapters"):
        model.add_adapters(LoRA(r=2))
