"""A head trained with adapters saves only adapter, (trained) BatchNorm and head tensors, and loads back exactly."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from safetensors import safe_open

import graftzoo
from graftzoo.adapters import LoRA
from graftzoo.learner import Learner
from graftzoo.errors import ArtifactError


def train_a_little(model: Any) -> None:
    """What training does to a model with adapters: adapters, BatchNorm (parameters and statistics) and head move."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.requires_grad:
                p.add_(0.05 * torch.randn_like(p))
        for m in model.body.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.add_(0.01)
                m.running_var.mul_(1.1)
                m.num_batches_tracked.add_(1)


def stored_names(folder: Path) -> set[str]:
    with safe_open(str(folder / "head.safetensors"), "pt") as f:
        return set(f.keys())


@pytest.fixture
def saved(make_model: Callable[..., Any], tmp_path: Path) -> tuple[Path, Any]:
    model = make_model(adapters=LoRA(r=4, batch_norm="train"))  # the setting that stores the most
    train_a_little(model)
    return model.eval().save_head(tmp_path / "head", vocab=["a", "b", "c"]), model


def test_only_adapter_bn_and_head_tensors_are_stored(saved: tuple[Path, Any]) -> None:
    folder, model = saved
    names = stored_names(folder)
    bn = {f"body.{n}.{k}" for n, m in model.body.named_modules() if isinstance(m, torch.nn.BatchNorm2d)
          for k in m.state_dict()}
    lora = {k for k in model.state_dict() if ".lora_" in k}
    head = {k for k in model.state_dict() if k.startswith("head.")}
    assert names == head | lora | bn  # no base conv weight of the body
    assert not any("base_layer" in n for n in names)
    config = json.loads((folder / "graftzoo.json").read_text())
    assert config["adapters"] == model.adapters and config["training"]["fine_tuning"] == "lora"
    assert "LoRA adapters (rank 4" in (folder / "README.md").read_text() and "BatchNorm train" in (folder / "README.md").read_text()
    body = {k: v.numel() for k, v in model.state_dict().items() if k.startswith("body.")}
    assert sum(body[k] for k in names if k in body) < 0.25 * sum(body.values())  # a small share of the body travels


@pytest.mark.parametrize(("batch_norm", "bn_stored"), [("affine", ("weight", "bias")), ("frozen", ())])
def test_with_bn_statistics_kept_only_adapter_head_and_chosen_bn_tensors_are_stored_and_load_exactly(
    make_model: Callable[..., Any], dls: SimpleNamespace, images: torch.Tensor, tmp_path: Path,
    batch_norm: str, bn_stored: tuple[str, ...],
) -> None:
    """Real training under `affine` (the default) or `frozen` leaves BatchNorm statistics as the source has them: none travel."""
    learn = Learner(dls, make_model(), quiet=True)
    learn.fine_tune(1, base_lr=1e-2, freeze_epochs=1, adapters=LoRA(r=2, batch_norm=batch_norm))
    model = learn.model.eval()
    folder = model.save_head(tmp_path / "head", vocab=["a", "b", "c"])
    lora = {k for k in model.state_dict() if ".lora_" in k}
    head = {k for k in model.state_dict() if k.startswith("head.")}
    bn = {f"body.{n}.{k}" for n, m in model.body.named_modules() if isinstance(m, torch.nn.BatchNorm2d) for k in bn_stored}
    assert lora and stored_names(folder) == head | lora | bn
    assert f"BatchNorm {batch_norm}" in (folder / "README.md").read_text()  # the model card says so
    loaded = graftzoo.load_head(folder)
    assert loaded.adapters == model.adapters and loaded.adapters["batch_norm"] == batch_norm
    with torch.no_grad():
        assert torch.equal(loaded(images), model(images))


@pytest.mark.slow
def test_load_in_a_fresh_process_predicts_exactly_as_the_model(saved: tuple[Path, Any], images: torch.Tensor, tmp_path: Path) -> None:
    folder, model = saved
    torch.save(images, tmp_path / "x.pt")
    with torch.no_grad():
        expected = model(images)
    script = textwrap.dedent(f"""
        import torch, graftzoo
        torch.set_num_threads({torch.get_num_threads()})  # the same reduction order as this process
        model = graftzoo.load_head({str(folder)!r})
        x = torch.load({str(tmp_path / 'x.pt')!r}, weights_only=True)
        with torch.no_grad():
            torch.save(model(x), {str(tmp_path / 'y.pt')!r})
        print(model.adapters["r"])
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[-1] == "4"
    assert torch.equal(torch.load(tmp_path / "y.pt", weights_only=True), expected)


def test_merge_gives_a_plain_model_with_the_same_outputs(saved: tuple[Path, Any], images: torch.Tensor, tmp_path: Path) -> None:
    _, model = saved
    merged = model.merge().eval()
    assert merged.adapters is None and "adapters" not in merged.config
    assert not any(".lora_" in k or "base_layer" in k for k in merged.state_dict())
    assert all(p.requires_grad for p in merged.parameters())
    with torch.no_grad():
        torch.testing.assert_close(merged(images), model(images), rtol=1e-4, atol=1e-5)
    assert model.adapters is not None  # the original keeps its adapters
    folder = merged.save_head(tmp_path / "merged", vocab=["a", "b", "c"])  # a merged model saves as a full fine-tune
    config = json.loads((folder / "graftzoo.json").read_text())
    assert config["adapters"] is None and config["training"]["fine_tuning"] == "full"
    assert any(k.endswith("conv_head.weight") for k in stored_names(folder))


def test_a_full_fine_tune_still_saves_what_changed(make_model: Callable[..., Any], tmp_path: Path) -> None:
    model = make_model()
    with torch.no_grad():
        model.body.net.get_submodule("model.conv_head").weight.add_(0.1)
    folder = model.save_head(tmp_path / "full", vocab=["a", "b", "c"])
    names = stored_names(folder)
    assert "body.net.model.conv_head.weight" in names and not any(".lora_" in n for n in names)
    config = json.loads((folder / "graftzoo.json").read_text())
    assert config["adapters"] is None and config["training"]["fine_tuning"] == "full"
    assert "fine-tuning: full" in (folder / "README.md").read_text()


def forge(folder: Path, dest: Path, **adapters: Any) -> Path:
    shutil.copytree(folder, dest)
    config = json.loads((folder / "graftzoo.json").read_text())
    config["adapters"] = None if adapters.get("drop") else {**config["adapters"], **adapters}
    (dest / "graftzoo.json").write_text(json.dumps(config))
    return dest


@pytest.mark.parametrize(("change", "named"), [
    ({"r": 2}, "shape mismatches"),
    ({"target_modules": ["model.blocks.9.0.conv_pw"]}, "model.blocks.9.0.conv_pw"),
    ({"target_modules": ["os:system"]}, "target_modules"),
    ({"target_modules": ["model.conv_head"]}, "unknown tensors"),
    ({"kind": "graftzoo.adapters:LoRA"}, "'kind'"),
    ({"dropout": 2}, "'dropout'"),
    ({"drop": True}, "unknown tensors"),
    ({"extra": "x"}, "exactly the keys"),
])
def test_a_bad_adapter_config_is_a_clean_error(saved: tuple[Path, Any], tmp_path: Path, change: dict[str, Any], named: str) -> None:
    forged = forge(saved[0], tmp_path / "forged", **change)
    with pytest.raises(ArtifactError) as info:
        graftzoo.load_head(forged)
    assert named in str(info.value)


def test_adapter_tensors_missing_from_the_file_are_refused(saved: tuple[Path, Any], tmp_path: Path) -> None:
    import hashlib

    from safetensors.torch import load_file, save_file

    folder = tmp_path / "cut"
    shutil.copytree(saved[0], folder)
    tensors = {k: v for k, v in load_file(str(folder / "head.safetensors")).items() if "conv_head.lora_B" not in k}
    save_file(tensors, str(folder / "head.safetensors"))
    config = json.loads((folder / "graftzoo.json").read_text())
    data = (folder / "head.safetensors").read_bytes()

    config["head_file"] = {"name": "head.safetensors", "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    config["body_tensors"] = sorted(k for k in tensors if k.startswith("body."))
    (folder / "graftzoo.json").write_text(json.dumps(config))
    with pytest.raises(ArtifactError, match="missing tensors.*conv_head.lora_B"):
        graftzoo.load_head(folder)


def test_an_adapted_head_serves_as_head_weights_with_its_adapters_merged(saved: tuple[Path, Any], images: torch.Tensor) -> None:
    folder, model = saved
    reused = graftzoo.graft("timm/test_efficientnet", "classify", n_out=5, weights=f"head://{folder.resolve()}").eval()
    assert reused.adapters is None and not any(".lora_" in k for k in reused.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(reused.body(images), model.body(images), rtol=1e-4, atol=1e-5)
