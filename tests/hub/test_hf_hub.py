"""Push and pull through the real `huggingface_hub` client against the loopback Hub.

Every scenario runs in a fresh process pointed at the server (see conftest.py for why); the
session-scoped results (round trip, errors, offline) are shared by the tests that read them.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from typing import Any

import pytest

SHA = re.compile(r"^[0-9a-f]{40}$")
RunHf = Callable[..., dict[str, Any]]


def _without_gitattributes(tree: dict[str, str]) -> dict[str, str]:
    return {path: data for path, data in tree.items() if path != ".gitattributes"}


def test_push_then_pull_by_branch_and_by_sha(hf_roundtrip: dict[str, Any]) -> None:
    out = hf_roundtrip
    assert SHA.match(out["first"]) and SHA.match(out["second"])
    assert out["first"] in out["first_url"]
    assert _without_gitattributes(out["main_after_first"]) == out["v1"]
    assert _without_gitattributes(out["sha_after_first"]) == out["v1"]


def test_second_push_makes_a_new_commit_and_keeps_the_old_one(hf_roundtrip: dict[str, Any]) -> None:
    out = hf_roundtrip
    assert out["second"] != out["first"]
    assert _without_gitattributes(out["main_after_second"]) == out["v2"]  # extra.txt deleted in that commit
    assert _without_gitattributes(out["first_after_second"]) == out["v1"]
    shas = [sha for sha, _ in out["revisions"]]
    assert shas[:2] == [out["second"], out["first"]]
    assert [message for _, message in out["revisions"][:2]] == ["second head", "first head"]


def test_pushing_the_same_files_returns_the_current_commit(hf_roundtrip: dict[str, Any]) -> None:
    out = hf_roundtrip
    assert out["again"] == out["first"]
    assert out["branch"] == out["second"]  # a new branch from main with the same files: no new commit
    assert _without_gitattributes(out["dev"]) == out["v2"]


def test_front_dispatches_hf_refs(run_hf: RunHf) -> None:
    out = run_hf("front")
    assert out["ref"].startswith("hf://") and out["ref"].endswith(f"/head@{out['sha']}")
    assert out["tree"] == out["main"]
    assert {"head.safetensors", "graftzoo.json", "README.md"} <= set(out["tree"])


@pytest.fixture(scope="module")
def hf_errors(hf_session: RunHf) -> dict[str, Any]:
    """The `errors` scenario: missing repo / revision, and a push of a folder with a broken link."""
    return hf_session("errors")


def test_missing_repo_and_revision_are_clear_errors(hf_errors: dict[str, Any]) -> None:
    out = hf_errors
    assert out["missing_repo"]["type"] == "RepoNotFoundError"
    assert "GraftzooError" in out["missing_repo"]["mro"]
    assert "Check the repo id" in out["missing_repo"]["message"]
    assert out["missing_repo_revisions"]["type"] == "RepoNotFoundError"
    for case in ("missing_branch", "missing_sha"):
        assert out[case]["type"] == "RevisionNotFoundError"
        assert "branch, tag or commit sha" in out[case]["message"]
    assert out["missing_branch"]["seconds"] < 5 and out["missing_sha"]["seconds"] < 5


def test_push_of_an_unreadable_folder_commits_nothing(hf_errors: dict[str, Any]) -> None:
    out = hf_errors
    assert out["interrupted"]["type"] == "HubError" and "Nothing was committed" in out["interrupted"]["message"]
    assert out["head_unchanged"] is True


@pytest.fixture(scope="module")
def hf_offline(hf_session: RunHf, hf_roundtrip: dict[str, Any]) -> dict[str, Any]:
    """The `offline` scenario (HF_HUB_OFFLINE=1) on the cache the round trip filled."""
    return hf_session("offline", hf_roundtrip["repo_id"], hf_roundtrip["first"], offline=True)


def test_offline_pull_with_nothing_cached_fails_at_once(hf_offline: dict[str, Any]) -> None:
    for case in ("uncached", "uncached_sha"):
        assert hf_offline[case]["type"] == "HubOfflineError"
        assert "HF_HUB_OFFLINE" in hf_offline[case]["message"]
        assert hf_offline[case]["seconds"] < 2
    assert hf_offline["push"]["type"] == "HubOfflineError"


def test_offline_pull_of_a_cached_sha_works(hf_offline: dict[str, Any], hf_roundtrip: dict[str, Any]) -> None:
    assert _without_gitattributes(hf_offline["cached"]) == hf_roundtrip["v1"]


def test_unreachable_hub_fails_fast(run_hf: RunHf) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = run_hf("unreachable", env={"HF_ENDPOINT": f"http://127.0.0.1:{port}"})
    for case in ("pull", "pull_sha", "push"):
        assert out[case]["type"] == "HubOfflineError"
        assert "HF_ENDPOINT" in out[case]["message"]
        assert out[case]["seconds"] < 5



def test_hf_weight_source_loads_a_body_by_branch_sha_and_file(run_hf: RunHf) -> None:
    out = run_hf("weights")
    loaded = {ref: ok for ref, ok in out.items() if ref.startswith("hf://")}
    assert len(loaded) == 3 and all(loaded.values()), loaded
    assert out["missing_file"]["type"] is not None and "GraftzooError" in out["missing_file"]["mro"]
    assert "nope.safetensors" in out["missing_file"]["message"] or "missing" in out["missing_file"]["message"]
    assert "RepoNotFoundError" in out["missing_repo"]["mro"]
