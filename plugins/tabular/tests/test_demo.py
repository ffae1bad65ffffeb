"""`graftzoo demo tabular`: registered in the manifest, trains, saves and reloads a head."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graftzoo.registry.cli import main as cli_main
from graftzoo_tabular.demo import demo


def test_the_demo_is_listed_under_the_plugin_namespace(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["demo", "--list"]) == 0
    assert "tabular/demo" in capsys.readouterr().out


@pytest.mark.slow
def test_the_demo_trains_saves_and_reloads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    accuracy = demo(tmp_path, epochs=1)
    out = capsys.readouterr().out
    assert accuracy > 0.8 and f"validation accuracy {accuracy:.4f}" in out and "reloaded, it predicts" in out
    config = json.loads((tmp_path / "tabular-head" / "graftzoo.json").read_text())
    assert config["arch"] == "tabular/embeddings_mlp" and config["preprocessor"]["kind"] == "tabular/columns"
    assert config["metrics"]["accuracy"] == pytest.approx(accuracy, abs=1e-6)
