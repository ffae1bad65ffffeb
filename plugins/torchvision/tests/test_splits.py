"""The split helpers, and where every family's first body group ends (checked on meta-device models)."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from graftzoo.cutting import cut_model
from graftzoo.errors import SplitError
from graftzoo.imports import import_attr
from graftzoo.registry import get_arch
from graftzoo_torchvision.splits import split_before, stride_boundary


def _convs(*strides: int) -> nn.Sequential:
    return nn.Sequential(*(nn.Conv2d(1, 1, 3, stride=s, padding=1) for s in strides))


def test_split_before_by_index_and_by_name() -> None:
    seq = nn.Sequential()
    for name in ("stem", "stage1", "stage2"):
        seq.add_module(name, nn.Linear(1, 1))
    assert split_before(seq, 1) == split_before(seq, "stage1") == [[seq.stem], [seq.stage1, seq.stage2]]
    with pytest.raises(SplitError):
        split_before(seq, 0)
    with pytest.raises(SplitError):
        split_before(seq, 3)


def test_stride_boundary_counts_convolutions_and_pools() -> None:
    assert stride_boundary(_convs(2, 1, 2, 2, 2, 1)) == 4
    assert stride_boundary(nn.Sequential(nn.Conv2d(1, 1, 4, stride=4), nn.MaxPool2d(2), nn.Conv2d(1, 1, 3, stride=(2, 2)))) == 2
    with pytest.raises(SplitError):
        stride_boundary(_convs(2, 1, 2))


def _first_group_end(name: str) -> int:
    """How many children of the body's `features` (or `layers`) the first group holds."""
    spec = get_arch(name)
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")
        net = cut_model(import_attr(spec.factory)(**spec.factory_kwargs), spec.cut)
    first = import_attr(spec.split)(net)[0]
    return len(first)


@pytest.mark.parametrize(
    ("name", "end"),
    [
        ("torchvision/efficientnet_b0", 4), ("torchvision/efficientnet_v2_m", 4), ("torchvision/mobilenet_v2", 7),
        ("torchvision/mobilenet_v3_large", 7), ("torchvision/mobilenet_v3_small", 4), ("torchvision/mnasnet1_0", 10),
        ("torchvision/convnext_tiny", 4), ("torchvision/vgg11", 15), ("torchvision/vgg19", 27),
        ("torchvision/squeezenet1_1", 5), ("torchvision/densenet121", 7), ("torchvision/vgg16_bn", 22),
        ("torchvision/alexnet", 6),
    ],
)  # fmt: skip
def test_where_the_first_group_ends(name: str, end: int) -> None:
    assert _first_group_end(name) == end

