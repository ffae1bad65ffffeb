"""The network, attacked: a Hub that hangs, a Hub that is not there, the offline switch, and a repo
stuffed with junk beside a head. Every call ends in seconds with a clear OfflineError, the switch
keeps every call off the network, and a pull fetches the head's files only.

Calls through huggingface_hub run in fresh processes (network_scenarios.py): the client reads
HF_ENDPOINT once, at import. GRAFTZOO_NET_TIMEOUT is short here, so a failure costs under a second.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graftzoo.errors import ConfigError, GraftzooError, WeightsError
from graftzoo.testing.hub_server import LoopbackHub

SCENARIOS = Path(__file__).with_name("network_scenarios.py")
TIMEOUT = "0.5"  # GRAFTZOO_NET_TIMEOUT for these tests, in seconds
FAST = 5.0  # the most any failing call may take here
HUB_CALLS = ("pull", "pull_sha", "push", "list_revisions", "hf_weights")
ALL_CALLS = (*HUB_CALLS, "timm_hub", "timm_url", "torchvision")
SWITCHES = ("GRAFTZOO_OFFLINE", "HF_HUB_OFFLINE")
ARTIFACT_FILES = ["README.md", "graftzoo.json", "head.safetensors"]


def _closed_endpoint() -> str:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def _run(hub: LoopbackHub, tmp: Path, scenario: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a scenario in a fresh process pointed at `hub` (its own HF cache and torch home under `tmp`)."""
    full_env = {
        key: value for key, value in hub.subprocess_env(tmp / "home").items()
        if key not in ("GRAFTZOO_OFFLINE", "GRAFTZOO_HF_CACHE", "GRAFTZOO_NET_TIMEOUT")
    }
    full_env.update({"TORCH_HOME": str(tmp / "torch"), "GRAFTZOO_NET_TIMEOUT": TIMEOUT, **(env or {})})
    try:
        proc = subprocess.run(
            [sys.executable, str(SCENARIOS), scenario, str(tmp / "work"), f"t{uuid.uuid4().hex[:10]}", *args],
            env=full_env, cwd=tmp, capture_output=True, text=True, timeout=90,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"scenario {scenario} {args} hung for 90 s: some network call has no bounded wait")
    assert proc.returncode == 0, f"scenario {scenario} failed:\n{proc.stdout}\n{proc.stderr}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _through(hub: LoopbackHub) -> dict[str, str]:
    """Send the downloads of other hosts (torchvision's, timm's URLs) through `hub` as the HTTPS proxy."""
    return {"HTTPS_PROXY": hub.endpoint, "https_proxy": hub.endpoint}


def _assert_offline_error(result: dict[str, Any], within: float = FAST) -> None:
    assert result["type"] is not None, "the call succeeded?"
    assert "OfflineError" in result["mro"] and "GraftzooError" in result["mro"], result
    assert result["seconds"] < within, result


@pytest.fixture(scope="module")
def stalled_hub() -> Iterator[LoopbackHub]:
    with LoopbackHub(stalled=True) as hub:
        yield hub


@pytest.fixture(scope="module")
def stalled(stalled_hub: LoopbackHub, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every network call against a Hub (and an HTTPS proxy) that accepts and never answers."""
    return _run(stalled_hub, tmp_path_factory.mktemp("stalled"), "calls", ",".join(ALL_CALLS), env=_through(stalled_hub))


@pytest.fixture(scope="module")
def unreachable(stalled_hub: LoopbackHub, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The Hub's network calls with the Hub on a closed port (no network at all)."""
    env = {"HF_ENDPOINT": _closed_endpoint()}
    return _run(stalled_hub, tmp_path_factory.mktemp("unreachable"), "calls", ",".join((*HUB_CALLS, "timm_hub")), env=env)


# -- a Hub that accepts and never answers ----------------------------------------------------------

@pytest.mark.parametrize("call", ["pull", "pull_sha"])
def test_pull_from_a_stalled_hub_is_an_offline_error_in_seconds(stalled: dict[str, Any], call: str) -> None:
    _assert_offline_error(stalled[call])
    assert "GRAFTZOO_NET_TIMEOUT" in stalled[call]["message"] and "GRAFTZOO_OFFLINE" in stalled[call]["message"]


def test_push_to_a_stalled_hub_is_an_offline_error_in_seconds(stalled: dict[str, Any]) -> None:
    _assert_offline_error(stalled["push"])
    assert "could not be reached" in stalled["push"]["message"]


def test_listing_revisions_of_a_stalled_hub_is_an_offline_error_in_seconds(stalled: dict[str, Any]) -> None:
    _assert_offline_error(stalled["list_revisions"])


def test_hf_weights_from_a_stalled_hub_are_an_offline_error_in_seconds(stalled: dict[str, Any]) -> None:
    _assert_offline_error(stalled["hf_weights"])


def test_timm_weights_from_a_stalled_hub_are_an_offline_error_in_seconds(stalled: dict[str, Any]) -> None:
    _assert_offline_error(stalled["timm_hub"])
    assert "WeightsError" in stalled["timm_hub"]["mro"] and "could not be reached" in stalled["timm_hub"]["message"]


@pytest.mark.parametrize("call", ["torchvision", "timm_url"])
def test_url_weights_through_a_stalled_network_are_an_offline_error_in_seconds(stalled: dict[str, Any], call: str) -> None:
    _assert_offline_error(stalled[call])
    assert "WeightsError" in stalled[call]["mro"]


# -- no network at all -----------------------------------------------------------------------------

def test_unreachable_hub_is_not_reported_as_a_file_missing_from_the_repo(unreachable: dict[str, Any]) -> None:
    result = unreachable["timm_hub"]
    _assert_offline_error(result)
    assert "not in the repo" not in result["message"]
    assert "could not be reached" in result["message"] and "mobilenetv3_small_050" in result["message"]


@pytest.mark.parametrize("call", HUB_CALLS)
def test_every_hub_call_without_a_network_fails_in_seconds(unreachable: dict[str, Any], call: str) -> None:
    _assert_offline_error(unreachable[call])


# -- the offline switch ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def switched_off(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], list[str]]]:
    """Every network call with GRAFTZOO_OFFLINE=1, then with HF_HUB_OFFLINE=1, each set while running
    (after huggingface_hub was imported with it off), against a Hub and proxy that would hang."""
    with LoopbackHub(stalled=True) as hub:
        out = _run(hub, tmp_path_factory.mktemp("switched"), "switched", ",".join(ALL_CALLS), ",".join(SWITCHES),
                   env=_through(hub))
        yield out, list(hub.log)


def test_the_offline_switch_sends_nothing(switched_off: tuple[dict[str, Any], list[str]]) -> None:
    _, requests = switched_off
    assert requests == [], f"the offline switch still sent {requests}"


@pytest.mark.parametrize("switch", SWITCHES)
@pytest.mark.parametrize("call", ALL_CALLS)
def test_either_offline_variable_stops_every_call_at_once(
    switched_off: tuple[dict[str, Any], list[str]], switch: str, call: str
) -> None:
    result = switched_off[0][switch][call]
    _assert_offline_error(result, within=2.0)
    assert switch in result["message"], result


# -- fetch only what is needed ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def junk_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], list[str]]]:
    with LoopbackHub() as hub:
        # a Hub that answers: a generous timeout, so that a busy machine cannot make it look unreachable
        out = _run(hub, tmp_path_factory.mktemp("junk"), "junk", env={"GRAFTZOO_NET_TIMEOUT": "30"})
        yield out, list(hub.log)


def test_pulling_a_head_never_fetches_the_junk_beside_it(junk_repo: tuple[dict[str, Any], list[str]]) -> None:
    out, requests = junk_repo
    assert out["pulled"] == ARTIFACT_FILES and out["by_sha"] == ARTIFACT_FILES
    assert not out["junk_in_cache"]
    assert out["largest_cached"] < 4096 and out["cache_bytes"] < 64 * 1024, out
    assert not [r for r in requests if "junk.bin" in r and not r.startswith("POST")], requests


def test_a_pulled_head_is_served_offline_from_the_cache(junk_repo: tuple[dict[str, Any], list[str]]) -> None:
    out, _ = junk_repo
    assert out["offline"]["type"] is None, out["offline"]
    assert out["offline_files"] == ARTIFACT_FILES


# -- in this process: the switch, the setting, the caps, plain downloads ---------------------------

@pytest.mark.parametrize("var", ["GRAFTZOO_OFFLINE", "HF_HUB_OFFLINE"])
@pytest.mark.parametrize(("value", "expected"), [("1", True), ("true", True), ("ON", True), ("0", False), ("", False)])
def test_both_offline_variables_switch_alike(monkeypatch: pytest.MonkeyPatch, var: str, value: str, expected: bool) -> None:
    from graftzoo.offline import is_offline

    for name in ("GRAFTZOO_OFFLINE", "HF_HUB_OFFLINE"):
        monkeypatch.setenv(name, "0")
    monkeypatch.setenv(var, value)
    assert is_offline() is expected


@pytest.mark.parametrize("value", ["soon", "0", "-3", "inf", "nan"])
def test_a_bad_net_timeout_is_a_config_error_naming_the_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    from graftzoo.offline import net_timeout

    monkeypatch.setenv("GRAFTZOO_NET_TIMEOUT", value)
    with pytest.raises(ConfigError, match="GRAFTZOO_NET_TIMEOUT"):
        net_timeout()


def test_every_client_request_waits_at_most_the_net_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Even the client's calls that pass no timeout at all (None: wait forever), or 60 s."""
    httpx2 = pytest.importorskip("httpx2")
    from graftzoo.hub.hf_client import cap_timeouts

    monkeypatch.setenv("GRAFTZOO_NET_TIMEOUT", "7")
    for asked in (None, 60.0, 3.0):
        request = httpx2.Request("GET", "http://127.0.0.1:1/", extensions={"timeout": httpx2.Timeout(asked).as_dict()})
        cap_timeouts(request)
        limit = min(asked or math.inf, 7.0)
        assert request.extensions["timeout"] == {"connect": min(limit, 5.0), "read": limit, "write": limit, "pool": limit}


def test_a_download_from_a_silent_server_fails_fast_and_leaves_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from graftzoo.download import download
    from graftzoo.offline import OfflineError

    monkeypatch.setenv("GRAFTZOO_NET_TIMEOUT", TIMEOUT)
    monkeypatch.delenv("GRAFTZOO_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    dest = tmp_path / "cache" / "resnet18-f37072fd.pth"
    with LoopbackHub(stalled=True) as hub:
        start = time.monotonic()
        with pytest.raises(WeightsError) as caught:
            download(f"{hub.endpoint}/resnet18-f37072fd.pth", dest, "f37072fd")
        took = time.monotonic() - start
    assert isinstance(caught.value, OfflineError) and isinstance(caught.value, GraftzooError)
    assert took < 3.0 and str(dest) in str(caught.value)
    assert list(dest.parent.iterdir()) == []


def test_an_offline_download_sends_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from graftzoo.download import download
    from graftzoo.offline import OfflineError

    monkeypatch.setenv("GRAFTZOO_OFFLINE", "1")
    with LoopbackHub(stalled=True) as hub:
        with pytest.raises(OfflineError, match="GRAFTZOO_OFFLINE"):
            download(f"{hub.endpoint}/resnet18-f37072fd.pth", tmp_path / "resnet18-f37072fd.pth", "f37072fd")
        assert list(hub.log) == []
    assert not os.listdir(tmp_path)
