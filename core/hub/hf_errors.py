"""Turn `huggingface_hub` exceptions into graftzoo errors that say what to do."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from graftzoo.errors import ConfigError, GraftzooError
from graftzoo.hub.errors import HubAuthError, HubError, HubOfflineError, RepoNotFoundError, RevisionNotFoundError
from graftzoo.hub.hf_client import is_transport_error
from graftzoo.offline import TIMEOUT_VAR, is_offline, net_timeout, offline_switch

_LOGIN = "log in with `hf auth login`, set HF_TOKEN, or pass token="


@contextmanager
def hf_errors(action: str, repo_id: str, revision: str | None = None) -> Iterator[None]:
    """Re-raise the client's exceptions inside the block as graftzoo errors (others pass through)."""
    try:
        yield
    except GraftzooError:
        raise
    except Exception as exc:
        mapped = translate(exc, action, repo_id, revision)
        if mapped is None:
            raise
        raise mapped from exc


def translate(exc: BaseException, action: str, repo_id: str, revision: str | None) -> GraftzooError | None:
    """The graftzoo error for a `huggingface_hub` (or transport) exception, or None if unknown."""
    from huggingface_hub import constants
    from huggingface_hub import errors as hf

    endpoint = constants.ENDPOINT
    where = f"hf://{repo_id}" + (f"@{revision}" if revision else "")
    if isinstance(exc, hf.GatedRepoError):
        return HubAuthError(f"{where} is gated on {endpoint}: accept its terms on the repo page, then {_LOGIN}.")
    if isinstance(exc, hf.RepositoryNotFoundError):
        return RepoNotFoundError(
            f"No repo {repo_id!r} on {endpoint} (or it is private and you are not logged in). "
            f"Check the repo id (namespace/name); for a private repo {_LOGIN}."
        )
    if isinstance(exc, hf.RevisionNotFoundError):
        return RevisionNotFoundError(
            f"Repo {repo_id!r} on {endpoint} has no revision {revision or 'main'!r}. Check the branch, tag or "
            "commit sha (HfHub().list_revisions(repo_id) lists the commits of main)."
        )
    if isinstance(exc, (hf.LocalEntryNotFoundError, hf.OfflineModeIsEnabled)):
        return offline_error(action, where, endpoint, is_offline(), constants.HF_HUB_CACHE)
    if isinstance(exc, hf.EntryNotFoundError):
        return HubError(f"A file of {where} is missing on {endpoint} ({exc}). Push the folder again.")
    if isinstance(exc, hf.LocalTokenNotFoundError):
        return HubAuthError(f"Cannot {action} {where}: no Hugging Face token found; {_LOGIN}.")
    if isinstance(exc, hf.HFValidationError):
        return ConfigError(f"Cannot {action} {where}: {exc}. Use a repo id like 'alice/pets-head'.")
    if isinstance(exc, hf.HfHubHTTPError):
        return _http(exc, action, where, endpoint)
    if is_transport_error(exc):
        return offline_error(action, where, endpoint, False, constants.HF_HUB_CACHE)
    if isinstance(exc, OSError):  # a local file that cannot be read: nothing was sent
        return HubError(f"Cannot {action} {where}: {exc}. Nothing was committed; fix the folder and try again.")
    return None


def offline_error(action: str, where: str, endpoint: str, offline: bool, cache: str) -> HubOfflineError:
    """The error for a Hub that is switched off (`offline`) or could not be reached."""
    reading = action != "push to"
    if offline and reading:
        return HubOfflineError(
            f"Cannot {action} {where}: {offline_switch()} is set and it is not in the cache ({cache}). "
            "Unset it (or set it to 0) to reach the Hub, or use a revision you pulled before."
        )
    if offline:
        return HubOfflineError(f"Cannot {action} {where}: {offline_switch()} is set. Unset it (or set it to 0) first.")
    cached = f" and nothing usable is cached ({cache})" if reading else ""
    return HubOfflineError(
        f"Cannot {action} {where}: {endpoint} could not be reached within {TIMEOUT_VAR}={net_timeout():g} s{cached}. "
        "Check your network and HF_ENDPOINT"
        + ("; to use only what is cached, set GRAFTZOO_OFFLINE=1." if reading else ", then try again.")
    )


def _http(exc: BaseException, action: str, where: str, endpoint: str) -> HubError:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if status in (401, 403):
        return HubAuthError(
            f"{endpoint} refused to {action} {where} (HTTP {status}). Use a token with write access: {_LOGIN}."
        )
    if status == 412:
        return HubError(f"{where} moved while pushing (another push?). Pull it, check it, and push again.")
    return HubError(f"Cannot {action} {where}: {endpoint} answered {detail}. Check the repo id and try again.")

