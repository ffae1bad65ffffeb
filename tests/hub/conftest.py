"""Fixtures for the hub tests: an empty local hub, small artifact folders, and ONE loopback Hub.

`huggingface_hub` reads HF_ENDPOINT and HF_HUB_OFFLINE once, when it is first imported, and any
earlier test in the same pytest process may import it first (timm does, so may artifact tests).
So every test that goes through the real client runs a scenario of `hf_scenarios.py` in a fresh
Python process whose environment points at the loopback server (`run_hf`). This process never
imports the client for these tests, so they pass in any order, alone or with the whole suite.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from graftzoo.hub import LocalHub
from graftzoo.testing.hub_server import LoopbackHub

SCENARIOS = Path(__file__).with_name("hf_scenarios.py")


def _load_scenarios() -> ModuleType:
    spec = importlib.util.spec_from_file_location("graftzoo_tests_hf_scenarios", SCENARIOS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_helpers = _load_scenarios()


@pytest.fixture
def make_artifact() -> Callable[..., Path]:
    """`make_artifact(folder, version=1)` writes an artifact-shaped folder and returns it."""
    return _helpers.write_artifact


@pytest.fixture
def read_tree() -> Callable[[Path], dict[str, bytes]]:
    """`read_tree(folder)`: posix path -> bytes of every file under it."""
    return _helpers.read_tree


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    return _helpers.write_artifact(tmp_path / "artifact")


@pytest.fixture
def local_hub(tmp_path: Path) -> LocalHub:
    return LocalHub(tmp_path / "hub")


@pytest.fixture(scope="session")
def loopback_hub() -> Iterator[LoopbackHub]:
    with LoopbackHub() as hub:
        yield hub


def _runner(hub: LoopbackHub, root: Path) -> Callable[..., dict[str, Any]]:
    """`run(scenario, *args, offline=False, env=None)`: run it in a fresh process, return its JSON.

    Calls of one runner share one HF cache (under `root`), so a later offline call sees what an
    earlier one pulled, and one namespace on the server (its repos are `<ns>/...`).
    """
    namespace = f"t{uuid.uuid4().hex[:10]}"

    def run(scenario: str, *args: str, offline: bool = False, env: dict[str, str] | None = None) -> dict[str, Any]:
        full_env = {**hub.subprocess_env(root / "home", offline=offline), **(env or {})}
        proc = subprocess.run(
            [sys.executable, str(SCENARIOS), scenario, str(root / f"work-{scenario}"), namespace, *args],
            env=full_env, cwd=root, capture_output=True, text=True, timeout=120,
        )
        assert proc.returncode == 0, f"scenario {scenario} failed:\n{proc.stdout}\n{proc.stderr}"
        return json.loads(proc.stdout.strip().splitlines()[-1])

    return run


@pytest.fixture
def run_hf(loopback_hub: LoopbackHub, tmp_path: Path) -> Callable[..., dict[str, Any]]:
    """A scenario runner with its own HF cache and namespace (see `_runner`)."""
    return _runner(loopback_hub, tmp_path)


@pytest.fixture(scope="session")
def hf_session(loopback_hub: LoopbackHub, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., dict[str, Any]]:
    """One runner for the session, so the round trip runs once and its cache can be reused."""
    return _runner(loopback_hub, tmp_path_factory.mktemp("hf-session"))


@pytest.fixture(scope="session")
def hf_roundtrip(hf_session: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """The result of the `roundtrip` scenario (push, pull, push again, pull both), run once."""
    return hf_session("roundtrip")
