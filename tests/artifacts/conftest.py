"""Fixtures for the artifact tests: source weights in a file, models "trained" frozen or unfrozen,
an empty GRAFTZOO_HOME (so the local hub starts empty), and one loopback Hub for the HF tests."""

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

from graftzoo.testing.hub_server import LoopbackHub

KIT_PATH = Path(__file__).with_name("kit.py")


def _load_kit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("graftzoo_tests_artifact_kit", KIT_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_kit = _load_kit()


@pytest.fixture(scope="session")
def kit() -> ModuleType:
    """tests/artifacts/kit.py: write_weights, make_model, train_frozen, train_unfrozen, logits."""
    return _kit


@pytest.fixture(scope="session")
def weights_ref(tmp_path_factory: pytest.TempPathFactory) -> str:
    """`file://` reference to random xresnet18 weights, standing in for pretrained ones."""
    return _kit.write_weights(tmp_path_factory.mktemp("weights") / "xresnet18.safetensors")


@pytest.fixture(scope="session")
def other_weights_ref(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Different weights of the same shapes (a wrong body for the fingerprint tests)."""
    return _kit.write_weights(tmp_path_factory.mktemp("weights") / "other.safetensors", seed=99)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty GRAFTZOO_HOME: the local hub (and any cache) starts empty."""
    path = tmp_path / "graftzoo-home"
    monkeypatch.setenv("GRAFTZOO_HOME", str(path))
    return path


@pytest.fixture
def frozen(weights_ref: str) -> Any:
    """xresnet18 on file weights with a classify head, trained frozen with train_bn."""
    model = _kit.make_model(weights_ref)
    model.changed_body_keys = _kit.train_frozen(model)
    return model


@pytest.fixture
def saved(frozen: Any, tmp_path: Path) -> Path:
    """A saved head folder of `frozen`, with class names and a metric."""
    return frozen.save_head(tmp_path / "pets-head", vocab=_kit.CLASSES, metrics={"accuracy": 0.75})


@pytest.fixture(scope="session")
def loopback_hub() -> Iterator[LoopbackHub]:
    with LoopbackHub() as hub:
        yield hub


@pytest.fixture
def run_hf(loopback_hub: LoopbackHub, tmp_path: Path, weights_ref: str) -> Callable[[str], dict[str, Any]]:
    """`run_hf(scenario)`: run a kit.py scenario in a fresh process pointed at the loopback Hub."""
    namespace = f"a{uuid.uuid4().hex[:10]}"

    def run(scenario: str) -> dict[str, Any]:
        env = {**loopback_hub.subprocess_env(tmp_path / "home"), "GRAFTZOO_HOME": str(tmp_path / "graftzoo-home")}
        proc = subprocess.run(
            [sys.executable, str(KIT_PATH), scenario, str(tmp_path / f"work-{scenario}"), namespace, weights_ref],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300,
        )
        assert proc.returncode == 0, f"scenario {scenario} failed:\n{proc.stdout}\n{proc.stderr}"
        return json.loads(proc.stdout.strip().splitlines()[-1])

    return run
