"""The static manifest lists every torchvision classification model, with metadata that matches torchvision."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import pytest
import torch
from torchvision import models

from graftzoo.cutting import cut_model
from graftzoo.imports import import_attr
from graftzoo.registry import archs, get_arch
from graftzoo.testing import manifest_problems


def _names() -> list[str]:
    return [full.split("/", 1)[1] for full in archs("torchvision/*")]


def test_every_torchvision_classification_model_is_registered() -> None:
    assert sorted(_names()) == sorted(models.list_models(module=models))


def test_manifest_and_references_are_sound() -> None:
    assert manifest_problems("torchvision", import_factories=True) == []


@pytest.mark.parametrize("name", models.list_models(module=models))
def test_entry_follows_the_default_weights(name: str) -> None:
    spec = get_arch(f"torchvision/{name}")
    weights = models.get_model_weights(name).DEFAULT
    transforms = weights.transforms()
    assert spec.factory == f"torchvision.models:{name}"
    assert spec.default_weights == f"torchvision:{weights!r}"
    assert spec.input_size == (3, transforms.crop_size[0], transforms.crop_size[0])
    assert spec.stats == (tuple(transforms.mean), tuple(transforms.std))
    assert spec.family and spec.tags and spec.cut is not None and spec.split
    assert spec.pooled is (spec.family == "vit")


@pytest.mark.slow
def test_num_features_and_split_of_every_arch() -> None:
    """A dummy forward and a split of each cut body on the meta device (no memory, no compute).

    RegNets compute their widths with real tensors, so only the small ones are built, on the CPU.
    """
    for name in _names():
        spec = get_arch(f"torchvision/{name}")
        device = "cpu" if spec.family == "regnet" else "meta"
        if device == "cpu" and models.get_model_weights(name).DEFAULT.meta["_ops"] > 4:
            continue
        with warnings.catch_warnings(), torch.device(device):
            warnings.simplefilter("ignore")
            body = cut_model(import_attr(spec.factory)(**spec.factory_kwargs), spec.cut).eval()
            with torch.no_grad():
                out = body(torch.zeros(1, 3, spec.probe_size, spec.probe_size))
        assert out.shape[1] == spec.num_features, name
        groups = import_attr(spec.split)(body)
        assert len(groups) == 2 and all(groups), name


def test_listing_imports_neither_torch_nor_the_plugin() -> None:
    code = (
        "import sys, graftzoo.registry as r; names = r.archs('torchvision/*'); spec = r.get_arch('torchvision/resnet50');"
        "assert len(names) >= 80 and spec.num_features == 2048;"
        "bad = [m for m in ('torch', 'torchvision', 'graftzoo_torchvision') if m in sys.modules]; assert not bad, bad"
    )
    env = {**os.environ, "GRAFTZOO_DISABLE_PLUGINS": "timm"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120)
