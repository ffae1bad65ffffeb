"""Splitting timm bodies with timm's group_matcher, and the merge of many groups into few."""

from __future__ import annotations

import torch
from torch import nn

from graftzoo import create_body
from graftzoo_timm.split import MAX_GROUPS, merge_groups


def _params(*sizes: int) -> list[list[nn.Parameter]]:
    return [[nn.Parameter(torch.zeros(size))] for size in sizes]


def test_merge_keeps_order_and_every_parameter() -> None:
    groups = _params(1, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 1)
    merged = merge_groups(groups, MAX_GROUPS)
    assert len(merged) == MAX_GROUPS
    assert [p for g in merged for p in g] == [p for g in groups for p in g]


def test_merge_with_a_huge_last_group() -> None:
    merged = merge_groups(_params(1, 1, 1, 1, 1, 1, 1, 100), 3)
    assert len(merged) == 3 and sum(len(g) for g in merged) == 8


def test_few_groups_are_kept() -> None:
    groups = _params(1, 2, 3)
    assert merge_groups(groups, MAX_GROUPS) == groups


def test_resnet_groups_are_stem_then_stages() -> None:
    body = create_body("timm/resnet18")
    groups = body.param_groups()
    model = body.net.model
    assert len(groups) == 5
    assert {id(p) for p in groups[0]} == {id(p) for p in [*model.conv1.parameters(), *model.bn1.parameters()]}
    assert {id(p) for p in groups[-1]} == {id(p) for p in model.layer4.parameters()}


def test_vit_groups_are_merged_with_stem_first() -> None:
    body = create_body("timm/vit_tiny_patch16_224")
    groups = body.param_groups()
    assert 2 <= len(groups) <= MAX_GROUPS
    assert any(p is body.net.model.cls_token for p in groups[0])
    assert any(p is body.net.model.norm.weight for p in groups[-1])


def test_model_without_group_matcher_falls_back_to_children() -> None:
    body = create_body("timm/poolformer_s12")
    assert not hasattr(body.net.model, "group_matcher")
    groups = body.param_groups()
    assert len(groups) >= 2
    assert sum(len(g) for g in groups) == len(list(body.parameters()))


def test_user_cut_gives_a_sequential_body() -> None:
    body = create_body("timm/resnet18", cut=-2)
    assert isinstance(body.net, nn.Sequential) and not body.pooled
    assert body(torch.zeros(1, 3, 64, 64)).shape == (1, 512, 2, 2)
    assert body.num_features == 512 and len(body.param_groups()) == 2
