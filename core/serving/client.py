"""What `graftzoo predict` and `graftzoo serve --stop/--status` send to a running predict server."""

from __future__ import annotations

import socket
from typing import Any

from graftzoo.serving.protocol import ServerError, receive_message, send_message, socket_path

CONNECT_SECONDS = 2.0


def ask(request: dict[str, Any]) -> dict[str, Any] | None:
    """The running server's reply to `request`, or None when no server answers.

    None also when the server goes away before replying (the caller then does the work itself).
    A socket left by a killed server refuses the connection and counts as none.
    """
    path = socket_path()
    if not path.exists():
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.settimeout(CONNECT_SECONDS)
        try:
            conn.connect(str(path))
        except OSError:  # refused (stale socket), vanished, or not ours to enter
            return None
        conn.settimeout(None)  # a prediction takes as long as it takes; a dead server closes the socket
        try:
            send_message(conn, request)
            return receive_message(conn)
        except (OSError, ServerError):
            return None
    finally:
        conn.close()
