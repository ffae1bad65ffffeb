"""Where the predict server listens and how messages travel: 4-byte length, then UTF-8 JSON.

The socket lives in `$GRAFTZOO_HOME/run/`, a folder only its owner can enter, so one server serves
one graftzoo home and only its user. Nothing in a message names code: a request is the argument
list of `graftzoo predict` and the client's working folder.
"""

from __future__ import annotations

import json
import socket
import struct
from pathlib import Path
from typing import Any

from graftzoo.errors import GraftzooError
from graftzoo.home import graftzoo_home

MAX_MESSAGE = 64 * 2**20  # bytes: a request lists files, a reply holds their predictions
MAX_SOCKET_PATH = 107  # bytes: sockaddr_un's sun_path on Linux, less its terminating NUL
HEADER = struct.Struct(">I")


class ServerError(GraftzooError):
    """The predict server cannot start, or answered with something that is not a reply."""


def socket_path() -> Path:
    """`$GRAFTZOO_HOME/run/predict.sock`; a ServerError when the path is too long for a Unix socket."""
    path = graftzoo_home() / "run" / "predict.sock"
    if len(str(path).encode()) > MAX_SOCKET_PATH:
        raise ServerError(f"the predict server's socket path {str(path)!r} is longer than a Unix socket allows "
                          f"({MAX_SOCKET_PATH} bytes): set GRAFTZOO_HOME to a shorter folder")
    return path


def send_message(conn: socket.socket, message: dict[str, Any]) -> None:
    """Send one JSON object."""
    data = json.dumps(message).encode()
    if len(data) > MAX_MESSAGE:
        raise ServerError(f"a message of {len(data)} bytes is over the {MAX_MESSAGE}-byte limit: predict fewer files per call")
    conn.sendall(HEADER.pack(len(data)) + data)


def receive_message(conn: socket.socket) -> dict[str, Any]:
    """Receive one JSON object; a ServerError when the peer closes early or sends anything else."""
    (size,) = HEADER.unpack(_exactly(conn, HEADER.size))
    if size > MAX_MESSAGE:
        raise ServerError(f"a message announced {size} bytes, over the {MAX_MESSAGE}-byte limit")
    try:
        message = json.loads(_exactly(conn, size).decode())
    except (UnicodeDecodeError, ValueError) as exc:
        raise ServerError(f"a message is not UTF-8 JSON: {exc}") from exc
    if not isinstance(message, dict):
        raise ServerError(f"a message must be a JSON object, got {type(message).__name__}")
    return message


def _exactly(conn: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = conn.recv(min(left, 2**20))
        if not chunk:
            raise ServerError(f"the connection closed {size - left} bytes into a {size}-byte message")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
