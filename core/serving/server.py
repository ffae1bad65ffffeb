"""The serving loop: one request at a time on a Unix socket, until stopped or idle too long."""

from __future__ import annotations

import os
import signal
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from graftzoo.serving.client import ask
from graftzoo.serving.protocol import ServerError, receive_message, send_message, socket_path

REQUEST_SECONDS = 30.0  # how long a connected client may take to send its request
Handler = Callable[[dict[str, Any]], dict[str, Any]]


def run_server(handle: Handler, idle_timeout: float, on_ready: Callable[[Path], None] | None = None) -> int:
    """Answer `predict` requests with `handle`, `status` and `stop` here, until `stop` or `idle_timeout` seconds without one.

    The socket is created in a folder only this user can enter and removed on the way out
    (also on SIGTERM). A ServerError when a server already answers for this graftzoo home.
    """
    path = socket_path()
    if ask({"op": "status"}) is not None:
        raise ServerError(f"a predict server already answers on {path}: stop it with `graftzoo serve --stop`")
    listener, inode = _listen(path)
    started, served = time.time(), 0
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _exit_quietly)
    try:
        if on_ready is not None:
            on_ready(path)
        listener.settimeout(idle_timeout)
        while True:
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                return 0
            with conn:
                request = _request(conn)
                if request is None:
                    continue
                op = request.get("op")
                if op == "stop":
                    send_message(conn, {"stopped": True, "pid": os.getpid()})
                    return 0
                if op == "status":
                    reply: dict[str, Any] = {"pid": os.getpid(), "started": started, "served": served, "idle_timeout": idle_timeout}
                elif op == "predict":
                    reply = handle(request)
                    served += 1
                else:
                    reply = {"error": f"unknown request {op!r}: the server answers predict, status and stop"}
                try:
                    send_message(conn, reply)
                except (OSError, ServerError):
                    pass  # the client left, or its reply is over the limit: the next request is unaffected
    finally:
        listener.close()
        _remove(path, inode)


def _listen(path: Path) -> tuple[socket.socket, int]:
    """A listening socket at `path` (a stale one from a killed server is replaced), owner-only, and its inode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    path.unlink(missing_ok=True)  # nothing answered on it (checked by the caller): a killed server's socket
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    os.chmod(path, 0o600)
    listener.listen(16)
    return listener, path.stat().st_ino


def _request(conn: socket.socket) -> dict[str, Any] | None:
    """The client's request, or None for a peer of another user or one that sends no valid message in time."""
    if not _same_user(conn):
        return None
    conn.settimeout(REQUEST_SECONDS)
    try:
        request = receive_message(conn)
    except (OSError, ServerError):
        return None
    conn.settimeout(None)
    return request


def _same_user(conn: socket.socket) -> bool:
    """Whether the peer runs as this user (Linux's SO_PEERCRED; elsewhere the owner-only folder decides)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return True
    _, uid, _ = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i")))
    return bool(uid == os.getuid())


def _remove(path: Path, inode: int) -> None:
    """Remove the socket file, unless another server has replaced it meanwhile."""
    try:
        if path.stat().st_ino == inode:
            path.unlink()
    except OSError:
        pass


def _exit_quietly(signum: int, frame: Any) -> None:
    sys.exit(0)
