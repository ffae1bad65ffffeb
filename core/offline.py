"""Whether graftzoo may use the network, and how long it waits for it.

- `GRAFTZOO_OFFLINE=1` or `HF_HUB_OFFLINE=1` (read at each call, honoured alike by every weight
  source and hub): nothing is downloaded or pushed; only what is already cached is used, and a
  missing file is an `OfflineError` at once.
- `GRAFTZOO_NET_TIMEOUT` (seconds, default 10): the longest graftzoo waits for one network step:
  connecting (at most `CONNECT_TIMEOUT_MAX` of it) or hearing anything back while reading or writing.
  An unreachable or silent server is an `OfflineError` after a few such waits, never a hang.
"""

from __future__ import annotations

import os
import sys

from graftzoo.errors import ConfigError, GraftzooError, WeightsError

OFFLINE_VARS = ("GRAFTZOO_OFFLINE", "HF_HUB_OFFLINE")
TIMEOUT_VAR = "GRAFTZOO_NET_TIMEOUT"
DEFAULT_TIMEOUT = 10.0
CONNECT_TIMEOUT_MAX = 5.0
_TRUE = ("1", "true", "yes", "on")


class OfflineError(GraftzooError, ConnectionError):
    """The network is switched off or cannot be reached, and nothing usable is cached."""


class WeightsOfflineError(WeightsError, OfflineError):
    """Weights that are not cached and cannot be downloaded (offline, or the server cannot be reached)."""


def is_offline() -> bool:
    """True when GRAFTZOO_OFFLINE or HF_HUB_OFFLINE is set now.

    With HF_HUB_OFFLINE absent from the environment, what it was when huggingface_hub was imported
    counts (the client refuses the network then too).
    """
    if any(os.environ.get(var, "").strip().lower() in _TRUE for var in OFFLINE_VARS):
        return True
    if "HF_HUB_OFFLINE" in os.environ:
        return False
    constants = sys.modules.get("huggingface_hub.constants")
    return bool(getattr(constants, "HF_HUB_OFFLINE", False))


def offline_switch() -> str:
    """The variable that switched the network off, for messages (`GRAFTZOO_OFFLINE=1`)."""
    for var in OFFLINE_VARS:
        value = os.environ.get(var, "").strip()
        if value.lower() in _TRUE:
            return f"{var}={value}"
    return "HF_HUB_OFFLINE=1 (when huggingface_hub was imported)"


def net_timeout() -> float:
    """GRAFTZOO_NET_TIMEOUT in seconds (default 10); a ConfigError for anything but a positive number."""
    raw = os.environ.get(TIMEOUT_VAR, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise ConfigError(f"{TIMEOUT_VAR}={raw!r} is not a number of seconds: set it to e.g. 10, or unset it")
    return value


def connect_timeout() -> float:
    """How long to wait for a connection: GRAFTZOO_NET_TIMEOUT, at most CONNECT_TIMEOUT_MAX."""
    return min(net_timeout(), CONNECT_TIMEOUT_MAX)
