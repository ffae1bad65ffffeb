"""`graftzoo train`: config checking, then end to end in one process and as two torchrun "nodes"."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
import numpy as np
import pytest
from PIL import Image

from graftzoo.errors import ConfigError
from graftzoo.registry.cli import main
from graftzoo.registry.cli_train import load_config

CONFIG = """
[data]
kind = "vision/image_folder"
path = "{path}"
size = 32

[model]
arch = "timm/test_convnext"
weights = "none"

[recipe]
method = "fine_tune"
epochs = 1
lr = 1e-2

[train]
bs = 4

[output]
folder = "{out}"
"""


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ImageNet layout, two colours: 8 train and 3 valid images of 20x20 per class."""
    root = tmp_path_factory.mktemp("imgs")
    rng = np.random.default_rng(0)
    for split, n in (("train", 8), ("valid", 3)):
        for name, colour in (("red", (200, 30, 30)), ("blue", (30, 30, 200))):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(n):
                noise = rng.integers(-30, 30, (20, 20, 3))
                Image.fromarray((np.array(colour) + noise).clip(0, 255).astype("uint8")).save(folder / f"{name}_{i}.png")
    return root


def write_config(tmp_path: Path, images: Path, out: Path, extra: str = "") -> Path:
    cfg = tmp_path / "train.toml"
    cfg.write_text(CONFIG.format(path=images, out=out) + extra)
    return cfg


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["recipe.method=fit_two_cycles"], "recipe.method = 'fit_two_cycles': allowed values are \\['fine_tune', 'fit_one_cycle', 'fit'\\]"),
        (["train.precision=fp8"], "train.precision = 'fp8': allowed values are \\['fp32', 'bf16', 'fp16'\\]"),
        (["train.batch=3"], "train.batch is not a known key; allowed keys of \\[train\\]: \\['bs', "),
        (["optim.lr=1"], "\\[optim\\] is not a config table; allowed tables"),
        (["recipe.epochs=0"], "recipe.epochs = 0 is out of range"),
        (["train.bs=\"four\""], "train.bs = 'four': expected int"),
        (["recipe"], "--set 'recipe': write TABLE.KEY=VALUE"),
        (["recipe.adapters={rank=2}"], "recipe.adapters.rank is not a LoRA setting; allowed keys of \\[recipe.adapters\\]: \\['r', 'alpha'"),
        (["recipe.adapters={r=0}"], "\\[recipe.adapters\\]: bad LoRA settings: 'r' \\(the rank\\) must be an integer from 1"),
        (["recipe.adapters={r=2}", "recipe.method=fit"], "recipe.adapters needs recipe.method = 'fine_tune'"),
    ],
)
def test_bad_config_names_the_key_and_the_allowed_values(tmp_path: Path, image_folder: Path, overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write_config(tmp_path, image_folder, tmp_path / "out"), overrides)


def test_missing_arch_and_data_kind(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="data.kind is missing"):
        load_config(None, ["model.arch=\"timm/test_convnext\""])
    with pytest.raises(ConfigError, match="model.arch is missing"):
        load_config(None, ["data.kind=\"vision/image_folder\""])


def test_data_section_keys_are_checked_by_the_plugin(tmp_path: Path, image_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = write_config(tmp_path, image_folder, tmp_path / "out")
    assert main(["train", str(cfg), "--set", "data.sise=32"]) == 2
    err = capsys.readouterr().err
    assert "data.sise is not a key of data kind 'vision/image_folder'" in err and "'size'" in err
    assert not (tmp_path / "out").exists()  # nothing half-written


def _top_label(head: Path | str, image: Path, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["predict", str(head), str(image), "--json"]) == 0
    return json.loads(capsys.readouterr().out)[0]["top_k"][0]["label"]


@pytest.mark.slow
def test_train_in_one_process_then_push(
    tmp_path: Path, image_folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRAFTZOO_HOME", str(tmp_path / "home"))  # the local hub lives there
    out = tmp_path / "out"
    cfg = write_config(tmp_path, image_folder, out)
    assert main(["train", str(cfg), "--epochs", "1", "--set", 'output.push="me/colours"']) == 0
    assert "pushed local://me/colours@" in capsys.readouterr().out
    summary = json.loads((out / "train.json").read_text())
    assert summary["world_size"] == 1 and summary["metric_names"] == ["train_loss", "valid_loss", "accuracy"]
    assert _top_label(out / "head", image_folder / "valid" / "red" / "red_0.png", capsys) == "red"
    assert _top_label("me/colours", image_folder / "valid" / "blue" / "blue_0.png", capsys) == "blue"


def test_train_with_lora_adapters_from_the_config(tmp_path: Path, image_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import torch
    from safetensors.torch import save_file

    import graftzoo
    from graftzoo.imports import import_attr

    spec = graftzoo.get_arch("timm/test_convnext")  # source weights, so that the head stores only what training changed
    torch.manual_seed(0)
    save_file(import_attr(spec.factory)(**spec.factory_kwargs).state_dict(), str(tmp_path / "body.safetensors"))
    out = tmp_path / "out"
    adapters = '\n[recipe.adapters]\nr = 2\ntarget_modules = ["model.stages.1.blocks.*.mlp.fc1"]\n'
    weights = f'model.weights="{(tmp_path / "body.safetensors").as_uri()}"'
    assert main(["train", str(write_config(tmp_path, image_folder, out, adapters)), "--set", weights, "--set", "recipe.freeze_epochs=0"]) == 0
    saved = json.loads((out / "head" / "graftzoo.json").read_text())
    assert saved["adapters"]["r"] == 2 and saved["adapters"]["target_modules"] == [f"model.stages.1.blocks.{i}.mlp.fc1" for i in (0, 1)]
    assert any("lora_A" in name for name in saved["body_tensors"])
    assert not any(name.endswith("mlp.fc1.weight") or name.endswith("fc1.base_layer.weight") for name in saved["body_tensors"])
    assert _top_label(out / "head", image_folder / "valid" / "red" / "red_0.png", capsys) in ("red", "blue")
    assert main(["info", str(out / "head"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["fine_tuning"].startswith("LoRA adapters (rank 2, alpha 4, on 2 layers")


@pytest.mark.slow
def test_train_under_torchrun_as_two_nodes(
    tmp_path: Path, image_folder: Path, loopback_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Two torchrun agents (one process each) meet over loopback, as two machines would."""
    out = tmp_path / "out"
    cfg = write_config(tmp_path, image_folder, out)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    nodes = [
        subprocess.Popen(
            [sys.executable, "-m", "torch.distributed.run", "--nnodes=2", "--nproc_per_node=1", f"--node_rank={n}",
             "--rdzv-backend=static", "--master-addr=127.0.0.1", f"--master-port={port}",
             "-m", "graftzoo", "train", str(cfg)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=loopback_env,
        )
        for n in (0, 1)
    ]
    try:
        logs = [p.communicate(timeout=150)[0] for p in nodes]
    finally:
        for p in nodes:
            if p.poll() is None:
                p.kill()
    assert [p.returncode for p in nodes] == [0, 0], logs[0][-3000:] + logs[1][-3000:]
    assert "saved the head" in logs[0] and "saved the head" not in logs[1]  # rank 0 alone reports
    assert "train_loss" in logs[0] and "train_loss" not in logs[1]
    summary = json.loads((out / "train.json").read_text())
    assert summary["world_size"] == 2
    assert _top_label(out / "head", image_folder / "valid" / "blue" / "blue_0.png", capsys) == "blue"


def test_vision_registers_its_data_sections(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--kind", "data", "--json"]) == 0
    names = {spec["name"]: spec["factory"] for spec in json.loads(capsys.readouterr().out)}
    assert names["vision/image_folder"] == "graftzoo_vision.train_data:image_folder"
    assert names["vision/image_names"] == "graftzoo_vision.train_data:image_names"
    assert main(["info", "vision/image_names"]) == 0 and capsys.readouterr().out.startswith("kind          data")


def test_image_names_section_labels_by_regex(tmp_path: Path, image_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from graftzoo_vision.train_data import image_names

    dls = image_names({"path": str(image_folder / "train"), "pattern": r"^([a-z]+)_\d+\.png$", "size": 16}, bs=4, seed=0)
    assert dls.vocab == ["blue", "red"] and len(dls.train_ds) + len(dls.valid_ds) == 16
    with pytest.raises(ConfigError, match="data.pattern is missing"):
        image_names({"path": str(image_folder)}, bs=4, seed=0)
    with pytest.raises(ConfigError, match="data.size = '16': expected the square side"):
        image_names({"path": str(image_folder), "pattern": "(x)", "size": "16"}, bs=4, seed=0)
