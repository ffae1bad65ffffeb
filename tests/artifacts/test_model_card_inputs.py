"""The model card's usage example and pipeline tag follow the head's input kind (images, text, tables)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from graftzoo.artifacts.model_card import pipeline_tag, render_card


def _card(saved: Path, inputs: dict[str, Any], preprocessor: dict[str, Any]) -> tuple[dict[str, Any], str]:
    config = json.loads((saved / "graftzoo.json").read_text())
    config.update(inputs=inputs, preprocessor=preprocessor)
    card = render_card(config, title="t")
    return yaml.safe_load(card.split("---\n")[1]), card.split("## Usage", 1)[1].split("##", 1)[0]


def test_image_heads_keep_the_image_usage_and_tag(saved: Path) -> None:
    config = json.loads((saved / "graftzoo.json").read_text())
    meta, usage = _card(saved, config["inputs"], config["preprocessor"])
    assert meta["pipeline_tag"] == "image-classification"
    assert 'model.predict(["cat.jpg"])' in usage and "predict hf://<namespace>/<repo> cat.jpg" in usage


def test_text_heads_get_a_text_tag_and_a_sentence(saved: Path) -> None:
    meta, usage = _card(saved, {"kind": "text/tokens", "vocab_size": 100}, {"kind": "text/tokens", "state": {}})
    assert meta["pipeline_tag"] == "text-classification"
    assert "cat.jpg" not in usage and 'model.predict(["a sentence to classify"' in usage


def test_table_heads_get_a_tabular_tag_rows_and_csv(saved: Path) -> None:
    state = {"cat_names": ["workclass"], "cont_names": ["age"]}
    meta, usage = _card(saved, {"kind": "tabular/columns"}, {"kind": "tabular/columns", "state": state})
    assert meta["pipeline_tag"] == "tabular-classification"
    assert 'model.predict([{"workclass": ..., "age": ...}])' in usage and "--csv rows.csv" in usage and "cat.jpg" not in usage


def test_pipeline_tag_follows_the_input_kind() -> None:
    assert pipeline_tag("core/classification") == "image-classification"
    assert pipeline_tag("core/classification", "text/wordpiece") == "text-classification"
    assert pipeline_tag("core/multilabel", "tabular/columns") == "tabular-classification"
    assert pipeline_tag("core/classification", "audio/wave") is None  # no wrong image tag for an unknown modality
