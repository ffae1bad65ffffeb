"""A split must cover every parameter exactly once, in two or more groups."""

from __future__ import annotations

import pytest
from torch import nn

from graftzoo.errors import SplitError
from graftzoo.splitter import check_split, split_by_names, split_children


def _model() -> nn.Sequential:
    return nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Linear(3, 4), nn.Linear(4, 1))


def test_valid_split_passes() -> None:
    m = _model()
    groups = [list(m[0].parameters()) + list(m[1].parameters()), list(m[2].parameters()) + list(m[3].parameters())]
    assert check_split(m, groups) == groups


def test_one_group_is_an_error() -> None:
    m = _model()
    with pytest.raises(SplitError, match="at least two"):
        check_split(m, [list(m.parameters())])


def test_missing_parameter_is_an_error() -> None:
    m = _model()
    with pytest.raises(SplitError, match="misses 2"):
        check_split(m, [list(m[0].parameters()), list(m[1].parameters()) + list(m[2].parameters())])


def test_duplicate_parameter_is_an_error() -> None:
    m = _model()
    with pytest.raises(SplitError, match="exactly one"):
        check_split(m, [list(m[0].parameters()) + list(m[1].parameters()), list(m.parameters())])


def test_foreign_parameter_is_an_error() -> None:
    m, other = _model(), nn.Linear(1, 1)
    with pytest.raises(SplitError, match="not in the model"):
        check_split(m, [list(m[:2].parameters()), list(m[2:].parameters()) + list(other.parameters())])


def test_split_children_balances_and_covers() -> None:
    net = nn.Sequential(nn.Linear(10, 10), nn.ReLU(), nn.Linear(10, 10), nn.Linear(10, 10), nn.Linear(10, 10))
    groups = split_children(net, 2)
    assert [len(g) for g in groups] == [2, 2]
    assert sum(p.numel() for g in groups for m in g for p in m.parameters()) == sum(p.numel() for p in net.parameters())


def test_split_by_names_explains_missing_module() -> None:
    with pytest.raises(SplitError, match="cut differently"):
        split_by_names(_model(), [["0"], ["layer9"]])
