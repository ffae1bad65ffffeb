"""LoRA settings are plain JSON checked before anything is built; a target never names code."""

from __future__ import annotations

from typing import Any

import pytest

from graftzoo.adapters import LoRA, check_adapters
from graftzoo.errors import ConfigError
from graftzoo.model_config import ModelConfig


def test_defaults_and_json_round_trip() -> None:
    lora = LoRA(r=4, target_modules=("model.conv_head",))
    data = lora.to_json()
    assert data == {"kind": "lora", "r": 4, "alpha": 8.0, "dropout": 0.0, "target_modules": ["model.conv_head"],
                    "batch_norm": "auto"}
    assert LoRA.from_json(data) == LoRA(r=4, alpha=8.0, target_modules=("model.conv_head",))
    assert LoRA(r=4, alpha=2).scale == 0.5
    assert LoRA().r == 4 and LoRA().batch_norm == "auto"  # what keeps EfficientNet-Lite0's head under 5 %


def test_adapter_json_saved_before_batch_norm_existed_means_batch_norm_trained() -> None:
    """Heads saved before the setting trained BatchNorm with the adapters: that is what its absence means."""
    legacy = {k: v for k, v in LoRA(r=2).to_json().items() if k != "batch_norm"}
    assert check_adapters(legacy) is None
    assert LoRA.from_json(legacy).batch_norm == "train"


@pytest.mark.parametrize(("kwargs", "named"), [
    ({"r": 0}, "'r'"), ({"r": True}, "'r'"), ({"alpha": -1.0}, "'alpha'"), ({"dropout": 1.0}, "'dropout'"),
    ({"target_modules": ("os:system",)}, "'target_modules'"), ({"target_modules": ()}, "'target_modules'"),
    ({"target_modules": ("a b",)}, "'target_modules'"), ({"batch_norm": "eval"}, "'batch_norm'"),
])
def test_bad_settings_name_the_key(kwargs: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        LoRA(**kwargs)


@pytest.mark.parametrize("data", [
    None, [], {"kind": "lora"}, {**LoRA().to_json(), "kind": "pkg.mod:Adapter"}, {**LoRA().to_json(), "extra": 1},
    {**LoRA().to_json(), "target_modules": "model.*"},
])
def test_check_adapters_refuses_malformed_json(data: Any) -> None:
    assert check_adapters(data) is not None


def test_model_config_keeps_adapters_and_omits_them_when_unset() -> None:
    base = {"arch": "a/b", "weights": None, "inputs": {"kind": "vision/image", "n_in": 3}, "body_kwargs": {}, "cut": None,
            "head": "vision/classify", "n_out": 2, "head_kwargs": {}, "task": "core/classification"}
    assert "adapters" not in ModelConfig.from_json(base).to_json()
    with_lora = ModelConfig.from_json({**base, "adapters": LoRA(r=2).to_json()})
    assert with_lora.to_json()["adapters"]["r"] == 2
    with pytest.raises(ConfigError, match="'r'"):
        ModelConfig.from_json({**base, "adapters": {**LoRA().to_json(), "r": 0}})


def test_manifest_lora_targets_are_validated_names() -> None:
    from graftzoo.errors import ManifestError
    from graftzoo.registry.schema import check_fields
    from graftzoo.spec import ArchSpec, spec_from_dict

    entry = {"name": "x/y", "factory": "m:f", "lora_targets": ["model.blocks.*.conv_pw", "model.conv_head"]}
    assert spec_from_dict("archs", entry).lora_targets == ("model.blocks.*.conv_pw", "model.conv_head")
    with pytest.raises(ValueError, match="lora_targets"):
        spec_from_dict("archs", {**entry, "lora_targets": ["os:system"]})
    with pytest.raises(ManifestError, match="lora_targets"):
        check_fields({**entry, "lora_targets": "model.conv_head"}, ArchSpec, "archs entry 'x/y'")
