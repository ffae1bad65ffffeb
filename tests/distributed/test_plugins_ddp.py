"""Tables and texts under torchrun: their loaders shard themselves (`dls.distributed`), and after
training every rank holds the same weights and reports the same (reduced) validation numbers."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.mark.slow
def test_tabular_and_text_learners_train_data_parallel(torchrun: list[str], loopback_env: dict[str, str], tmp_path: Path) -> None:
    proc = subprocess.run([*torchrun, str(HERE / "plugin_checks.py"), str(tmp_path)], env=loopback_env, capture_output=True,
                          text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in (0, 1)]
    assert [r["rank"] for r in results] == [0, 1]
    for key in ("table", "classifier", "lm"):
        assert results[0][key] == results[1][key], key  # identical replicas, identical reduced metrics
        assert all(value == value for value in results[0][key]), key  # no NaN
