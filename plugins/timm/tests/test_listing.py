"""The timm catalogue as registered archs: names, stats, sizes, default weights, described details."""

from __future__ import annotations

import subprocess
import sys

import pytest

import graftzoo
from graftzoo.registry import current
from graftzoo.testing import manifest_problems

timm = pytest.importorskip("timm")


def test_whole_catalogue_is_registered() -> None:
    names = graftzoo.archs("timm/*")
    assert len(names) >= 1200
    assert {f"timm/{n}" for n in timm.list_models()} == set(names)


def test_entries_follow_the_pretrained_configs() -> None:
    from timm.models import get_pretrained_cfg

    registry = current()
    for name in timm.list_models():
        spec = registry.get("archs", f"timm/{name}")
        cfg = get_pretrained_cfg(name)
        assert spec.input_size == tuple(cfg.input_size), name
        if spec.name != "timm/tf_efficientnet_lite0":  # its stats may come from graftzoo-packaged (also 0.5)
            assert spec.stats == (tuple(cfg.mean), tuple(cfg.std)), name
        assert spec.factory == "timm:create_model" and spec.factory_kwargs == {"model_name": name}
        assert spec.steps["body"] == "graftzoo_timm.body:timm_body" and spec.body is None
        assert spec.family is not None and name in timm.list_models(module=spec.family)
        has_weights = bool(cfg.tag and (cfg.hf_hub_id or cfg.url or cfg.file))
        if spec.default_weights is None:
            assert not has_weights, name
        elif not spec.default_weights.startswith("packaged:"):
            assert spec.default_weights == f"timm:{name}.{cfg.tag}"


def test_known_entries() -> None:
    spec = current().get("archs", "timm/resnet18")
    assert spec.default_weights == "timm:resnet18.a1_in1k"
    assert spec.family == "resnet"
    assert "cnn" in spec.tags and "classifier:fc" in spec.tags
    assert spec.probe_size == 64
    vit = current().get("archs", "timm/vit_tiny_patch16_224")
    assert "transformer" in vit.tags and vit.probe_size == 224


def test_described_details() -> None:
    assert graftzoo.get_arch("timm/resnet50").num_features == 2048
    vit = graftzoo.get_arch("timm/vit_small_patch16_224")
    assert (vit.num_features, vit.pooled) == (384, True)
    swin = graftzoo.get_arch("timm/swin_tiny_patch4_window7_224")
    assert (swin.num_features, swin.pooled) == (768, False)


def test_manifest_matches_hooks() -> None:
    assert manifest_problems("timm", import_factories=True) == []


def test_hooks_module_is_light() -> None:
    code = "import sys, graftzoo_timm.hooks; print(sorted(m for m in ('timm', 'torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_disabled_plugin_lists_nothing(monkeypatch: pytest.MonkeyPatch, graftzoo_home: object) -> None:
    from graftzoo.registry import Registry

    monkeypatch.setenv("GRAFTZOO_DISABLE_PLUGINS", "timm")
    assert Registry().names("archs", "timm/*") == []
