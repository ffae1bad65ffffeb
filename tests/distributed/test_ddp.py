"""The Learner under DDP: two CPU processes (gloo, loopback) against one process on the same data."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest

Run = Any


@pytest.fixture(scope="module")
def ranks(
    tmp_path_factory: pytest.TempPathFactory, run_cmd: Run, torchrun: list[str], checks_script: str
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """One torchrun launch of every check (rank 0's and rank 1's results) and the one-process baseline."""
    out = tmp_path_factory.mktemp("ddp")
    proc = run_cmd([*torchrun, checks_script, str(out), "checks"])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    single = run_cmd([sys.executable, checks_script, str(out), "single"])
    assert single.returncode == 0, single.stderr[-3000:]
    read = lambda name: json.loads((out / name).read_text())  # noqa: E731
    return read("checks-rank0.json"), read("checks-rank1.json"), read("single-rank0.json")


pytestmark = pytest.mark.slow


def test_two_ranks_ran(ranks: Any) -> None:
    r0, r1, _ = ranks
    assert (r0["rank"], r1["rank"], r0["world_size"]) == (0, 1, 2)


def test_replicas_identical_after_gradual_unfreezing_and_fine_tune(ranks: Any) -> None:
    r0, r1, _ = ranks
    assert r0["state"] == r1["state"]  # weights and BatchNorm statistics, bit for bit


def test_each_sample_seen_once_per_epoch_and_reshuffled(ranks: Any) -> None:
    r0, r1, _ = ranks
    for e0, e1 in zip(r0["seen"], r1["seen"]):
        assert not set(e0) & set(e1)
        assert sorted(e0 + e1) == list(range(32))
    assert r0["seen"][0] != r0["seen"][1]  # set_epoch gave a new order


def test_validation_metrics_equal_one_process(ranks: Any) -> None:
    r0, r1, _ = ranks
    # 13 validation samples, sharded 7/6 with nothing padded; accuracy is averaged, F1 gathered
    assert r0["valid_in_fit"] == pytest.approx(r0["valid_alone"], abs=1e-9)
    assert r1["valid_in_fit"] == r0["valid_in_fit"]


def test_losses_match_one_process_at_same_global_batch(ranks: Any) -> None:
    r0, r1, single = ranks
    assert r0["same_batch_losses"] == pytest.approx(single["same_batch_losses"], abs=1e-5)
    assert r0["rank_losses"] == r1["rank_losses"]  # the recorder holds the average over ranks


def test_gradient_accumulation_reduces_once_per_step_and_equals_one_process(ranks: Any) -> None:
    r0, r1, single = ranks
    acc = r0["accumulated"]
    assert acc["steps"] == 4  # 8 batches of 2 per rank, accumulated to 4 samples per rank
    assert acc["synced"] == [False, True] * 4  # the batches that do not step keep their gradients local (no_sync)
    assert acc["state"] == r1["accumulated"]["state"]
    for name, values in single["accumulated"]["state"].items():  # one process, batches of 8: the same SGD steps
        assert acc["state"][name] == pytest.approx(values, abs=1e-6), name


def test_only_rank0_prints_and_writes(ranks: Any) -> None:
    r0, r1, _ = ranks
    assert r0["printed"].startswith("epoch") and r1["printed"] == ""
    assert r0["own_files"] == ["lr_find.png", "models/mine.safetensors"]
    assert r1["own_files"] == []


def test_lr_find_runs_on_rank0_and_broadcasts(ranks: Any) -> None:
    r0, r1, _ = ranks
    assert r0["suggestion"] == r1["suggestion"] and len(r0["suggestion"]) == 4


def test_resume_from_checkpoint(ranks: Any) -> None:
    r0, r1, _ = ranks
    assert r0["loaded_equal"] and r1["loaded_equal"] and r1["ckpt_exists"]
    assert r0["resumed_state"] == r1["resumed_state"] != r0["state"]


@pytest.mark.parametrize("task", ["unet", "siamese"])
def test_vision_tasks_keep_replicas_identical_and_metrics_exact(ranks: Any, task: str) -> None:
    t0, t1 = ranks[0]["tasks"][task], ranks[1]["tasks"][task]
    assert t0["state"] == t1["state"]
    assert t0["valid_in_fit"] == pytest.approx(t0["valid_alone"], abs=1e-6) and t0["valid_in_fit"] == t1["valid_in_fit"]


def test_metric_states_reduce_to_the_one_process_value(ranks: Any) -> None:
    for r in ranks[:2]:
        assert len(r["metric_reduce"]) == 7
        for name, (reduced, whole) in r["metric_reduce"].items():
            assert whole is not None and reduced == pytest.approx(whole, abs=1e-12), name


def test_model_unwrapped_after_fit(ranks: Any) -> None:
    assert ranks[0]["wrapped_after_fit"] is False


def test_sync_bn_refused_on_cpu(ranks: Any) -> None:
    assert "sync_bn=True needs CUDA" in ranks[1]["sync_bn_cpu"]


def test_failing_rank_ends_the_run_with_its_error(tmp_path: Path, run_cmd: Run, torchrun: list[str], checks_script: str) -> None:
    start = time.monotonic()
    proc = run_cmd([*torchrun, checks_script, str(tmp_path), "fail"], timeout=120)
    assert proc.returncode != 0
    assert "rank 1 broke on purpose" in proc.stdout + proc.stderr
    assert time.monotonic() - start < 90
    assert not (tmp_path / "fail-rank0.json").exists()
