"""`graftzoo predict` through a running `graftzoo serve`: the same output as predicting in-process."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from graftzoo.registry.cli import main
from graftzoo.serving.client import ask
from graftzoo.serving.protocol import socket_path


@pytest.fixture
def server(home: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[int]:
    """The pid of a `graftzoo serve --detach` for this test's GRAFTZOO_HOME, stopped (or killed) afterwards."""
    assert main(["serve", "--detach", "--idle-timeout", "120"]) == 0
    assert "answers on" in capsys.readouterr().out
    status = ask({"op": "status"})
    assert status is not None
    yield int(status["pid"])
    ask({"op": "stop"})
    deadline = time.monotonic() + 20
    while _alive(status["pid"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(status["pid"]):
        os.kill(status["pid"], signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)  # reap it if it has exited (it is this process's child)
        os.kill(pid, 0)
    except (ChildProcessError, ProcessLookupError):
        return False
    return True


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _served() -> int:
    status: dict[str, Any] | None = ask({"op": "status"})
    assert status is not None
    return int(status["served"])


@pytest.mark.slow
def test_the_server_predicts_what_this_process_predicts(server: int, saved: Path, frozen: Any,
                                                        tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    Image.new("RGB", (40, 32), (250, 10, 10)).save(tmp_path / "red.png")
    monkeypatch.chdir(tmp_path)  # relative paths mean what they mean here, not in the server's folder
    argv = ["predict", str(saved), "red.png", "missing.png", "--top-k", "2", "--json"]
    here = _run([*argv, "--no-server"], capsys)
    assert _served() == 0
    assert _run(argv, capsys) == here and here[0] == 1 and "missing.png" in here[2]
    assert _served() == 1

    frozen.save_head(saved, vocab=["x", "y", "z"])  # the head changes on disk: the server loads it again
    renamed = _run(argv, capsys)
    assert renamed == _run([*argv, "--no-server"], capsys) and _served() == 2
    assert {guess["label"] for guess in json.loads(renamed[1])[0]["top_k"]} <= {"x", "y", "z"}
    assert not {guess["label"] for guess in json.loads(here[1])[0]["top_k"]} & {"x", "y", "z"}

    missing = _run(["predict", str(tmp_path / "nowhere"), "red.png"], capsys)
    assert missing == _run(["predict", str(tmp_path / "nowhere"), "red.png", "--no-server"], capsys)
    assert missing[0] == 2 and "neither a folder nor a hub reference" in missing[2]

    assert main(["serve", "--status"]) == 0 and main(["serve", "--stop"]) == 0
    deadline = time.monotonic() + 20
    while _alive(server) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(server) and not socket_path().exists()
    assert main(["serve", "--status"]) == 1 and main(["serve", "--stop"]) == 1
