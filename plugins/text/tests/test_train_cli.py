"""`graftzoo train` on a CSV of texts: graftzoo-text's `[data]` section, a tiny AWD-LSTM classifier."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from graftzoo.artifacts import load_head
from graftzoo.registry.cli import main

CONFIG = """
[data]
kind = "text/csv"
path = "{path}"
text_col = "text"
label_col = "label"
valid_pct = 0.25
seq_len = 8
min_freq = 1

[model]
arch = "text/awd_lstm"
head = "text/classify"
weights = "none"
body_kwargs = {{ emb_sz = 16, n_hid = 24, n_layers = 2 }}

[recipe]
method = "fit_one_cycle"
epochs = 6
lr = 3e-2

[train]
bs = 8

[output]
folder = "{out}"
"""


def test_graftzoo_train_fits_a_text_classifier_from_a_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = ["a lovely day", "great food and lovely people", "what a great film", "lovely and great"]
    bad = ["a terrible day", "awful food and terrible people", "what an awful film", "terrible and awful"]
    rows = [(t, "pos") for t in good] * 6 + [(t, "neg") for t in bad] * 6
    csv = tmp_path / "reviews.csv"
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(csv, index=False)
    cfg = tmp_path / "train.toml"
    cfg.write_text(CONFIG.format(path=csv, out=tmp_path / "out"))
    assert main(["train", str(cfg)]) == 0, capsys.readouterr().err
    model = load_head(tmp_path / "out" / "head")
    assert model.config["inputs"]["kind"] == "text/tokens" and model.config["body_kwargs"]["n_hid"] == 24
    labels, _ = model.predict(["a lovely and great day", "an awful and terrible film"])
    assert labels == ["pos", "neg"]
