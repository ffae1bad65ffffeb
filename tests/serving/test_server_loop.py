"""The predict server's loop, socket and messages, with a stand-in handler (no torch, no subprocess)."""

from __future__ import annotations

import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graftzoo.serving.client import ask
from graftzoo.serving.protocol import HEADER, ServerError, receive_message, socket_path
from graftzoo.serving.server import run_server


class ServerThread:
    """`run_server` in a thread, with a handler that echoes the request's `text`."""

    def __init__(self, idle_timeout: float = 30.0) -> None:
        self.ready = threading.Event()
        self.result: list[Any] = []
        self.thread = threading.Thread(target=self._run, args=(idle_timeout,), daemon=True)

    def _run(self, idle_timeout: float) -> None:
        try:
            self.result.append(run_server(lambda r: {"echo": r.get("text")}, idle_timeout, on_ready=lambda _: self.ready.set()))
        except BaseException as exc:  # reported to the test
            self.result.append(exc)
            self.ready.set()

    def start(self) -> ServerThread:
        self.thread.start()
        assert self.ready.wait(10)
        return self


@pytest.fixture
def server(graftzoo_home: Path) -> Iterator[ServerThread]:
    running = ServerThread().start()
    yield running
    ask({"op": "stop"})
    running.thread.join(10)


def test_a_server_answers_status_predict_and_stop_and_removes_its_socket(server: ServerThread) -> None:
    path = socket_path()
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ask({"op": "status"})["served"] == 0  # type: ignore[index]
    assert ask({"op": "predict", "text": "hi"}) == {"echo": "hi"}
    assert ask({"op": "status"})["served"] == 1  # type: ignore[index]
    assert "unknown request 'rm'" in ask({"op": "rm"})["error"]  # type: ignore[index]
    assert ask({"op": "stop"})["stopped"] is True  # type: ignore[index]
    server.thread.join(10)
    assert server.result == [0] and not path.exists()
    assert ask({"op": "status"}) is None  # nothing answers any more


def test_garbage_and_broken_messages_do_not_stop_the_server(server: ServerThread) -> None:
    for junk in (HEADER.pack(5) + b"[1,2]", HEADER.pack(3) + b"\xff\xfe{", HEADER.pack(2**31), b"\x00"):
        with socket.socket(socket.AF_UNIX) as conn:
            conn.connect(str(socket_path()))
            conn.sendall(junk)
    assert ask({"op": "predict", "text": "still here"}) == {"echo": "still here"}


def test_a_second_server_for_the_same_home_is_refused(server: ServerThread) -> None:
    with pytest.raises(ServerError, match="already answers.*graftzoo serve --stop"):
        run_server(lambda r: r, 1.0)
    assert ask({"op": "predict", "text": "x"}) == {"echo": "x"}  # the first one is untouched


def test_an_idle_server_stops_and_a_stale_socket_counts_as_none(graftzoo_home: Path) -> None:
    path = socket_path()
    path.parent.mkdir(parents=True)
    with socket.socket(socket.AF_UNIX) as dead:  # a killed server's socket: bound, nobody listening
        dead.bind(str(path))
    assert path.exists() and ask({"op": "status"}) is None
    idle = ServerThread(idle_timeout=0.3).start()  # replaces the stale socket
    assert idle.result == [] and ask({"op": "status"}) is not None
    idle.thread.join(10)
    assert idle.result == [0] and not path.exists()


def test_messages_are_checked(graftzoo_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    left, right = socket.socketpair()
    with left, right:
        left.sendall(HEADER.pack(2**30))
        with pytest.raises(ServerError, match="over the"):
            receive_message(right)
        left.sendall(HEADER.pack(4) + b'"ab"')
        with pytest.raises(ServerError, match="JSON object"):
            receive_message(right)
        left.sendall(HEADER.pack(10) + b"{}")
        left.close()
        with pytest.raises(ServerError, match="closed 2 bytes into a 10-byte message"):
            receive_message(right)
    monkeypatch.setenv("GRAFTZOO_HOME", "/tmp/" + "x" * 120)
    with pytest.raises(ServerError, match="set GRAFTZOO_HOME to a shorter folder"):
        socket_path()
