"""The timm: weight source against a Hugging Face cache that the tests fill themselves (offline)."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from graftzoo import create_body
from graftzoo.errors import WeightsError
from graftzoo_timm.weights import TimmWeights, model_kwargs

timm = pytest.importorskip("timm")

NAME, TAG = "mobilenetv3_small_050", "lamb_in1k"
REPO = f"timm/{NAME}.{TAG}"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def fill_cache(cache: Path, repo_id: str, filename: str, payload: bytes) -> Path:
    """Lay a file out as huggingface_hub does: blobs/<sha256>, snapshots/<commit>/<file>, refs/main."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    blob = repo / "blobs" / hashlib.sha256(payload).hexdigest()
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(payload)
    link = repo / "snapshots" / COMMIT / filename
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(Path("..") / ".." / "blobs" / blob.name)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(COMMIT)
    return blob


def random_state() -> dict[str, torch.Tensor]:
    torch.manual_seed(7)
    model = timm.create_model(NAME)
    return {k: v.contiguous() for k, v in model.state_dict().items()}


@pytest.fixture
def hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setenv("GRAFTZOO_HF_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache


def test_body_loads_exactly_the_cached_tensors(hf_cache: Path, tmp_path: Path) -> None:
    state = random_state()
    save_file(state, str(tmp_path / "w.safetensors"))
    fill_cache(hf_cache, REPO, "model.safetensors", (tmp_path / "w.safetensors").read_bytes())
    body = create_body(f"timm/{NAME}", weights="default")
    assert body.weights == f"timm:{NAME}.{TAG}"
    loaded = body.net.model.state_dict()
    assert loaded, "the body has tensors"
    for key, tensor in loaded.items():
        assert torch.equal(tensor, state[key]), key


def test_pytorch_model_bin_loads_with_weights_only(hf_cache: Path, tmp_path: Path) -> None:
    state = random_state()
    torch.save(state, tmp_path / "w.bin")
    fill_cache(hf_cache, REPO, "pytorch_model.bin", (tmp_path / "w.bin").read_bytes())
    assert TimmWeights().resolve(f"timm:{NAME}.{TAG}").name == "pytorch_model.bin"
    body = create_body(f"timm/{NAME}", weights=f"timm:{NAME}.{TAG}", n_in=1)
    stem = body.net.model.conv_stem
    assert stem.in_channels == 1
    assert torch.allclose(stem.weight, state["conv_stem.weight"].sum(dim=1, keepdim=True))


def test_missing_offline_is_a_clear_error_not_a_hang(hf_cache: Path) -> None:
    start = time.monotonic()
    with pytest.raises(WeightsError) as info:
        TimmWeights().resolve(f"timm:{NAME}.{TAG}")
    message = str(info.value)
    assert REPO in message and "model.safetensors" in message and str(hf_cache) in message
    assert time.monotonic() - start < 10


def test_corrupted_cache_file_is_refused(hf_cache: Path, tmp_path: Path) -> None:
    save_file(random_state(), str(tmp_path / "w.safetensors"))
    blob = fill_cache(hf_cache, REPO, "model.safetensors", (tmp_path / "w.safetensors").read_bytes())
    blob.write_bytes(blob.read_bytes()[:-1] + b"\0")
    with pytest.raises(WeightsError, match="sha256"):
        TimmWeights().resolve(f"timm:{NAME}.{TAG}")


def test_unknown_tag_lists_the_known_ones() -> None:
    with pytest.raises(WeightsError, match=r"timm:resnet18\.a1_in1k"):
        TimmWeights().resolve("timm:resnet18.no_such_tag")
    with pytest.raises(WeightsError, match="no model"):
        TimmWeights().resolve("timm:no_such_model.x")


def test_bare_model_name_means_its_default_tag(hf_cache: Path, tmp_path: Path) -> None:
    save_file(random_state(), str(tmp_path / "w.safetensors"))
    fill_cache(hf_cache, REPO, "model.safetensors", (tmp_path / "w.safetensors").read_bytes())
    assert TimmWeights().resolve(f"timm:{NAME}").name == "model.safetensors"


def test_weights_with_another_head_size_build_a_matching_model() -> None:
    assert model_kwargs("timm:vit_tiny_patch16_224.augreg_in21k") == {"num_classes": 21843}
    assert model_kwargs("packaged:efficientnet-lite0") == {}
    assert model_kwargs(None) == {}
