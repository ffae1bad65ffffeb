"""The files save_head writes: safetensors, JSON and Markdown only (no pickle), written atomically."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from safetensors import safe_open

import graftzoo.artifacts.save as save_module
from graftzoo.artifacts import save_head
from graftzoo.artifacts.schema import FORMAT_VERSION
from graftzoo.errors import ArtifactError

PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")
ZIP_MAGIC = b"PK\x03\x04"  # torch.save format (a zip archive that can carry code)


def _front_matter(card: str) -> dict[str, Any]:
    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n", 2)[1])


def test_no_pickle_in_saved_files(saved: Path) -> None:
    assert sorted(p.name for p in saved.iterdir()) == ["README.md", "graftzoo.json", "head.safetensors"]
    for path in saved.iterdir():
        data = path.read_bytes()
        assert not data.startswith(PICKLE_MAGIC) and not data.startswith(ZIP_MAGIC), path
    with safe_open(str(saved / "head.safetensors"), "pt") as handle:
        assert handle.metadata()["graftzoo"] == f"head/{FORMAT_VERSION}"
        assert all(k.startswith(("head.", "body.")) for k in handle.keys())
    assert json.loads((saved / "graftzoo.json").read_text())["format_version"] == FORMAT_VERSION
    _front_matter((saved / "README.md").read_text(encoding="utf-8"))


def test_config_records_everything_needed_to_rebuild(kit: ModuleType, frozen: Any, saved: Path) -> None:
    config = json.loads((saved / "graftzoo.json").read_text())
    assert {k: config[k] for k in ("arch", "inputs", "cut", "head", "head_kwargs", "n_out", "task")} == {
        k: frozen.config[k] for k in ("arch", "inputs", "cut", "head", "head_kwargs", "n_out", "task")
    }
    assert config["body_weights"] == frozen.config["weights"]
    assert config["body_fingerprint"].startswith("sha256:") and len(config["body_fingerprint"]) == 71
    assert config["classes"] == kit.CLASSES and config["metrics"] == {"accuracy": 0.75}
    state = config["preprocessor"]["state"]
    assert config["preprocessor"]["kind"] == "vision/image" and config["inputs"] == {"kind": "vision/image", "n_in": 3}
    assert state["stats"]["mean"] == [0.485, 0.456, 0.406] and state["input_size"] == [3, 224, 224]
    assert {"graftzoo", "torch", "graftzoo-vision"} <= set(config["versions"])
    assert config["head_file"]["bytes"] == (saved / "head.safetensors").stat().st_size


def test_model_card_has_hub_metadata_and_reads_well(saved: Path) -> None:
    card = (saved / "README.md").read_text(encoding="utf-8")
    meta = _front_matter(card)
    assert meta["library_name"] == "graftzoo" and meta["pipeline_tag"] == "image-classification"
    assert {"graftzoo", "classification", "xresnet18"} <= set(meta["tags"])
    assert meta["metrics"] == ["accuracy"] and "base_model" not in meta  # file weights: no Hub base model
    for text in ("# pets-head", "## Classes", "`cat`, `dog`, `fish`", "| accuracy | 0.75 |", "graftzoo.load_head(",
                 "frozen except its normalization layers", "## Artifact"):
        assert text in card, text


def test_model_card_base_model_and_model_index(kit: ModuleType, frozen: Any, tmp_path: Path) -> None:
    from graftzoo.artifacts.model_card import base_model, render_card

    assert base_model("timm:resnet34.a1_in1k", "timm/resnet34") == "timm/resnet34.a1_in1k"
    assert base_model("timm:a1_in1k", "timm/resnet34") == "timm/resnet34.a1_in1k"
    assert base_model("hf://alice/weights@v1", "vision/xresnet18") == "alice/weights"
    assert base_model("torchvision:ResNet34_Weights.IMAGENET1K_V1", "torchvision/resnet34") is None
    config = json.loads((save_head(frozen, tmp_path / "h", metrics={"accuracy": 0.5}, dataset="oxford-pets")
                         / "graftzoo.json").read_text())
    config["body_weights"] = "timm:resnet34.a1_in1k"
    meta = _front_matter(render_card(config, title="pets", dataset="oxford-pets"))
    assert meta["base_model"] == "timm/resnet34.a1_in1k" and meta["datasets"] == ["oxford-pets"]
    result = meta["model-index"][0]["results"][0]
    assert result["metrics"] == [{"type": "accuracy", "value": 0.5, "name": "accuracy"}]
    assert result["dataset"] == {"name": "oxford-pets", "type": "oxford-pets"}


def test_save_replaces_an_artifact_only_when_complete(kit: ModuleType, frozen: Any, saved: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    before = {p.name: p.read_bytes() for p in saved.iterdir()}

    def broken_card(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("disk full")

    monkeypatch.setattr(save_module, "render_card", broken_card)  # fail after the tensors are written
    with pytest.raises(RuntimeError, match="disk full"):
        save_head(frozen, saved)
    assert {p.name: p.read_bytes() for p in saved.iterdir()} == before
    assert sorted(p.name for p in saved.parent.iterdir()) == [saved.name]  # no temporary folder left
    monkeypatch.undo()
    kit.train_frozen(frozen, step=0.5)
    save_head(frozen, saved, vocab=kit.CLASSES)
    assert (saved / "head.safetensors").read_bytes() != before["head.safetensors"]
    assert sorted(p.name for p in saved.parent.iterdir()) == [saved.name]


def test_save_refuses_to_replace_other_folders(frozen: Any, tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    with pytest.raises(ArtifactError, match="is not a saved head; refusing to replace it"):
        save_head(frozen, precious)
    assert (precious / "thesis.tex").read_text() == "years of work"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert (save_head(frozen, empty) / "graftzoo.json").is_file()


def test_save_checks_class_names_and_model(frozen: Any, tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="2 class names for a head with n_out=3"):
        save_head(frozen, tmp_path / "h", vocab=["a", "b"])
    with pytest.raises(ArtifactError, match="needs a model made by graftzoo.graft"):
        save_head(object(), tmp_path / "h")
    assert not (tmp_path / "h").exists()
