"""`graftzoo train` on a CSV table: graftzoo-tabular's `[data]` section, no Python written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sklearn.datasets import load_breast_cancer

from graftzoo.artifacts import load_head
from graftzoo.registry.cli import main

CONFIG = """
[data]
kind = "tabular/csv"
path = "{path}"
y_names = "target"
valid_pct = 0.25

[model]
arch = "tabular/embeddings_mlp"
head = "tabular/linear"
weights = "none"
body_kwargs = {{ layers = [32, 16] }}

[recipe]
method = "fit_one_cycle"
epochs = 4
lr = 1e-2

[train]
bs = 32

[output]
folder = "{out}"
"""


def test_graftzoo_train_fits_a_table_from_a_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frame = load_breast_cancer(as_frame=True).frame.iloc[:, [0, 1, 2, 3, 20, 21, 22, 23, -1]]
    frame["target"] = frame["target"].map({0: "malignant", 1: "benign"})
    csv = tmp_path / "cancer.csv"
    frame.to_csv(csv, index=False)
    cfg = tmp_path / "train.toml"
    cfg.write_text(CONFIG.format(path=csv, out=tmp_path / "out"))
    assert main(["train", str(cfg)]) == 0, capsys.readouterr().err
    summary = json.loads((tmp_path / "out" / "train.json").read_text())
    assert summary["world_size"] == 1
    model = load_head(tmp_path / "out" / "head")
    assert model.config["inputs"]["kind"] == "tabular/columns" and model.config["body_kwargs"] == {"layers": [32, 16]}
    rows = frame.drop(columns="target").to_dict("records")
    labels, _ = model.predict(rows)
    hits = sum(label == truth for label, truth in zip(labels, frame["target"]))
    assert hits / len(rows) > 0.85, hits


def test_a_bad_tabular_section_names_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "train.toml"
    cfg.write_text(CONFIG.format(path=tmp_path / "none.csv", out=tmp_path / "out").replace('y_names = "target"', "y_name = 3"))
    assert main(["train", str(cfg)]) == 2
    assert "data.y_name is not a key of data kind 'tabular/csv'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
