"""graftzoo's use of the `huggingface_hub` client: bounded waits, and one file at a time.

`use_timeouts()` makes every request of the client's shared HTTP session wait at most
GRAFTZOO_NET_TIMEOUT seconds for each step (connect: at most 5 s), including the calls the client
makes with no timeout at all (repo info, tree listings, commits), through a request event hook on
the client its factory builds (`huggingface_hub.set_client_factory`: the client's own supported knob).

`fetch_file` downloads one file after one quick HEAD request, so that an unreachable or silent Hub
is an error in seconds: `hf_hub_download` alone retries for minutes when its first request fails.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from graftzoo.offline import connect_timeout, is_offline, net_timeout

_PHASES = ("connect", "read", "write", "pool")


def cap_timeouts(request: Any) -> None:
    """Request event hook: no wait of `request` may exceed GRAFTZOO_NET_TIMEOUT (connect: connect_timeout())."""
    asked = request.extensions.get("timeout") or {}
    limit = {phase: net_timeout() for phase in _PHASES}
    limit["connect"] = connect_timeout()
    capped = {phase: min(asked.get(phase) or math.inf, limit[phase]) for phase in _PHASES}
    request.extensions = {**request.extensions, "timeout": capped}


def use_timeouts() -> None:
    """Give huggingface_hub's shared session the `cap_timeouts` hook (once; kept if the session is rebuilt)."""
    from huggingface_hub import set_client_factory
    from huggingface_hub.utils import _http

    # the factory in effect (the client's default, or one the user set), so that its settings stay
    current: Callable[[], Any] = getattr(_http, "_GLOBAL_CLIENT_FACTORY", _http.default_client_factory)
    if getattr(current, "graftzoo_capped", False):
        return

    def capped_client() -> Any:
        client = current()
        hooks = client.event_hooks
        if cap_timeouts not in hooks["request"]:
            client.event_hooks = {**hooks, "request": [*hooks["request"], cap_timeouts]}
        return client

    capped_client.graftzoo_capped = True  # type: ignore[attr-defined]
    set_client_factory(capped_client)


def fetch_file(repo_id: str, filename: str, revision: str | None = None, cache_dir: str | None = None,
               token: str | None = None) -> str:
    """The cached path of one file of a Hub repo, downloaded if needed.

    Offline (GRAFTZOO_OFFLINE / HF_HUB_OFFLINE) only the cache is read. Online, one HEAD request
    checks the file first: the client's own exceptions come out (`EntryNotFoundError` when the repo
    lacks the file; `LocalEntryNotFoundError` when the Hub cannot be reached and the cache lacks it).
    """
    from huggingface_hub import get_hf_file_metadata, hf_hub_download, hf_hub_url
    from huggingface_hub.errors import LocalEntryNotFoundError

    if is_offline():
        return str(hf_hub_download(repo_id, filename, revision=revision, cache_dir=cache_dir, local_files_only=True))
    use_timeouts()
    try:
        get_hf_file_metadata(hf_hub_url(repo_id, filename, revision=revision), token=token, timeout=net_timeout())
    except Exception as exc:
        if not is_transport_error(exc):
            raise
        try:  # the Hub cannot be reached: what the cache holds still serves
            return str(hf_hub_download(repo_id, filename, revision=revision, cache_dir=cache_dir,
                                       local_files_only=True))
        except LocalEntryNotFoundError:
            raise LocalEntryNotFoundError(
                f"{filename} of {repo_id} is not cached and the Hub cannot be reached ({type(exc).__name__}: {exc})"
            ) from exc
    return str(hf_hub_download(repo_id, filename, revision=revision, cache_dir=cache_dir, token=token,
                               etag_timeout=net_timeout()))


def is_transport_error(exc: BaseException) -> bool:
    """True for a failure to reach the server (refused, timed out, reset), not for an answer it gave."""
    try:
        import httpx2
    except ImportError:
        return isinstance(exc, (ConnectionError, TimeoutError))
    return isinstance(exc, (httpx2.TransportError, ConnectionError, TimeoutError))
