"""Running plugin code (importing a hooks module, calling a hook) bounded in time and isolated.

The call runs in a daemon thread. Whatever it raises, `SystemExit` and `KeyboardInterrupt`
included, comes back as a `PluginError`; a call still running after the timeout is abandoned (a
thread cannot be killed) and reported the same way, so the caller marks the plugin failed and
never calls into it again.
"""

from __future__ import annotations

import os
import threading
from typing import Callable, TypeVar

from graftzoo.errors import PluginError

T = TypeVar("T")
DEFAULT_TIMEOUT_S = 60.0


class PluginTimeoutError(PluginError):
    """Plugin code that did not return in time; it was abandoned, still running, in a daemon thread."""


def hook_timeout() -> float:
    """Seconds one hook call may take: `GRAFTZOO_HOOK_TIMEOUT`, else 60."""
    raw = os.environ.get("GRAFTZOO_HOOK_TIMEOUT", "")
    try:
        value = float(raw) if raw else DEFAULT_TIMEOUT_S
    except ValueError:
        return DEFAULT_TIMEOUT_S
    return value if value > 0 else DEFAULT_TIMEOUT_S


def call_bounded(call: Callable[[], T], what: str, timeout: float | None = None) -> T:
    """`call()`, or a `PluginError` naming `what` if it raises anything or runs past `timeout` seconds."""
    limit = hook_timeout() if timeout is None else timeout
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - SystemExit from a plugin must not end the process
            outcome["error"] = exc

    worker = threading.Thread(target=run, name=f"graftzoo-plugin: {what}", daemon=True)
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        raise PluginTimeoutError(f"{what} did not return within {limit:g} s (GRAFTZOO_HOOK_TIMEOUT); it was abandoned")
    if "error" in outcome:
        exc = outcome["error"]
        assert isinstance(exc, BaseException)
        raise PluginError(f"{what} raised {type(exc).__name__}: {exc}") from exc
    return outcome["value"]  # type: ignore[return-value]
