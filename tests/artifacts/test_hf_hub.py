"""Saved heads through the real `huggingface_hub` client and a loopback Hub (scenarios in kit.py,
each in a fresh process: the client reads HF_ENDPOINT once, at import)."""

from __future__ import annotations

from typing import Any, Callable

RunHf = Callable[[str], dict[str, Any]]


def test_push_pull_load_by_branch_and_revision(run_hf: RunHf) -> None:
    out = run_hf("hf_roundtrip")
    assert out["first"] != out["second"]
    assert out["main_equal"] and out["sha_equal"], "the pushed head predicts like the model"
    assert out["main_after_second"] and out["main_at_second"], "main moved to the second push"
    assert out["first_after_second"], "the first revision stays pullable by its sha"
    assert out["first_ref"].startswith("hf://") and out["first_ref"].endswith("@" + out["first"])
    assert {"README.md", "graftzoo.json", "head.safetensors"} <= set(out["copy_files"])
    assert out["card_ref"], "the model card's snippet names the real repo"
    assert out["vocab"] is None


def test_damaged_downloads_and_missing_plugins_leave_the_hf_cache_clean(run_hf: RunHf) -> None:
    out = run_hf("hf_broken")
    assert out["push_refused"]["type"] == "ArtifactError" and "truncated" in out["push_refused"]["message"]
    assert out["never_pushed"]["type"] == "RepoNotFoundError"
    assert out["truncated"]["type"] == "ArtifactError"
    assert "head.safetensors has" in out["truncated"]["message"] and "truncated" in out["truncated"]["message"]
    assert out["plugin"]["type"] == "ArtifactError" and "pip install graftzoo-text" in out["plugin"]["message"]
    for name in ("truncated", "plugin"):
        assert out[f"{name}_snapshots"] == [] and out[f"{name}_blobs"] == [], f"{name}: the HF cache was not cleaned"
    # pull_head checks the files only: a damaged one is refused (and leaves the cache), a sound one
    # whose plugin is missing here is pulled (installing the plugin is what the user does next)
    assert out["truncated_pull_to"]["type"] == "ArtifactError" and out["truncated_copy_exists"] is False
    assert out["truncated_snapshots_after_pull"] == []
    assert out["plugin_pull_to"]["type"] is None and out["plugin_copy_exists"] is True
    assert len(out["plugin_snapshots_after_pull"]) == 1
    assert out["leftovers"] == []
