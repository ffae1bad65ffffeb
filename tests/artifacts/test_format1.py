"""Heads saved by the format-1 writer (before inputs and preprocessors) still load and predict identically."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from graftzoo.artifacts import load_head

FIXTURES = Path(__file__).with_name("fixtures")


def test_a_format1_head_predicts_as_it_did_when_saved() -> None:
    model = load_head(FIXTURES / "format1-convnext")
    expected = json.loads((FIXTURES / "format1-expected.json").read_text())
    label, probs = model.predict(str(FIXTURES / "format1-input.png"))
    assert label == expected["label"]
    torch.testing.assert_close(probs, torch.tensor(expected["probs"]), atol=1e-6, rtol=0)
