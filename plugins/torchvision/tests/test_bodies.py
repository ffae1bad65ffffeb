"""Bodies of fastai's model_meta archs and of the smallest member of every other family: size, split, n_in, graft."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torchvision import models

import graftzoo
from graftzoo.registry import archs, get_arch
from graftzoo.splitter import check_split

IMAGENET_STATS = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))

# fastai's vision.learner model_meta: the cut, and the split of `m = Sequential(body, head)` as fastai
# writes it (m[0] is the body), with the head's group `m[1:]` left out since graftzoo appends it.
FASTAI_META = {
    "resnet": (-2, lambda m0: [m0[:6], m0[6:]]),
    "squeezenet": (-1, lambda m0: [m0[0][:5], m0[0][5:]]),
    "densenet": (-1, lambda m0: [m0[0][:7], m0[0][7:]]),
    "vgg_bn": (-2, lambda m0: [m0[0][:22], m0[0][22:]]),
    "alexnet": (-2, lambda m0: [m0[0][:6], m0[0][6:]]),
}
FASTAI_ARCHS = [
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "squeezenet1_0", "squeezenet1_1",
    "densenet121", "densenet169", "densenet201", "densenet161", "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn", "alexnet",
]  # fmt: skip
# Several seconds each on 2 CPU cores: run by `make test`, skipped by `make test-fast`.
HEAVY = {
    "resnet101", "resnet152", "densenet161", "densenet169", "densenet201", "vgg13_bn", "vgg16_bn", "vgg19_bn",
    "efficientnet_v2_s", "maxvit_t", "swin_v2_t", "vit_b_32",
}  # fmt: skip


def _family(name: str) -> str:
    return get_arch(f"torchvision/{name}").family


def smallest_per_family() -> list[str]:
    """The cheapest member (fewest GFLOPs, from its default weights' metadata) of every family fastai does not cover."""
    best: dict[str, tuple[float, str]] = {}
    for full in archs("torchvision/*"):
        name = full.split("/", 1)[1]
        if _family(name) in FASTAI_META:
            continue
        ops = models.get_model_weights(name).DEFAULT.meta["_ops"]
        best[_family(name)] = min(best.get(_family(name), (ops, name)), (ops, name))
    return sorted(name for _, name in best.values())


TESTED = FASTAI_ARCHS + smallest_per_family()
PARAMS = [pytest.param(name, marks=pytest.mark.slow) if name in HEAVY else name for name in TESTED]


def _input(name: str, n_in: int = 3) -> torch.Tensor:
    """A small input the body accepts: the weights' minimum size (at least 32), capped by the arch's probe size."""
    spec = get_arch(f"torchvision/{name}")
    least = models.get_model_weights(name).DEFAULT.meta["min_size"][0]
    size = min(spec.probe_size, max(32, least))
    return torch.randn(1, n_in, size, size)


def _names(module: nn.Module, groups: list[list[nn.Parameter]]) -> list[set[str]]:
    by_id = {id(p): n for n, p in module.named_parameters()}
    return [{by_id[id(p)] for p in group} for group in groups]


def _assert_fastai_meta(name: str, body: graftzoo.Body) -> None:
    """fastai's model_meta, re-expressed on a full torchvision model: same kept modules, same groups, same stats."""
    cut, fastai_split = FASTAI_META[_family(name)]
    with torch.device("meta"):
        full = getattr(models, name)()
    kept = list(full.named_children())[:cut]
    fastai_body = nn.Sequential(*(child for _, child in kept))
    expected = _names(full, [list(part.parameters()) for part in fastai_split(fastai_body)])
    assert _names(body.net, body.param_groups()) == expected
    assert [n for n, _ in body.net.named_children()] == [n for n, _ in kept]
    assert body.spec.stats == IMAGENET_STATS


@pytest.mark.parametrize("name", PARAMS)
def test_body_features_and_split(name: str) -> None:
    body = graftzoo.create_body(f"torchvision/{name}").eval()
    spec = body.spec
    with torch.no_grad():
        out = body(_input(name))
    assert out.dim() == (2 if spec.pooled else 4)
    assert out.shape[1] == spec.num_features == body.num_features
    assert spec.default_weights.startswith("torchvision:")
    groups = body.param_groups()
    assert len(groups) >= 2 and all(groups), "every body needs two or more non-empty groups"
    check_split(body, groups)
    if name in FASTAI_ARCHS:
        _assert_fastai_meta(name, body)


@pytest.mark.parametrize("name", PARAMS)
def test_graft_classify_with_four_channels(name: str) -> None:
    model = graftzoo.graft(f"torchvision/{name}", "classify", n_out=5, n_in=4).eval()
    with torch.no_grad():
        assert model(_input(name, n_in=4)).shape == (1, 5)
    groups = model.param_groups()
    assert len(groups) >= 3
    assert sum(len(g) for g in groups) == len(list(model.parameters()))


@pytest.mark.parametrize("name", PARAMS)
def test_one_channel_body(name: str) -> None:
    body = graftzoo.create_body(f"torchvision/{name}", n_in=1).eval()
    with torch.no_grad():
        out = body(_input(name, n_in=1))
    assert out.shape[1] == body.spec.num_features


def test_every_family_is_tested() -> None:
    families = {_family(full.split("/", 1)[1]) for full in archs("torchvision/*")}
    assert families == {_family(name) for name in TESTED}
