"""The loopback Hub itself, spoken to with urllib (this process never imports huggingface_hub)."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from graftzoo.testing.hub_server import LoopbackHub, git_oid


def _call(
    hub: LoopbackHub, method: str, path: str, body: Any = None, raw: bytes | None = None
) -> tuple[int, dict, Any]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(hub.endpoint + path, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, headers, payload = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, headers, payload = error.code, dict(error.headers), error.read()
    if headers.get("Content-Type") == "application/json" and payload:
        payload = json.loads(payload)
    return status, headers, payload


def _commit(hub: LoopbackHub, repo: str, files: dict[str, bytes], parent: str | None = None) -> tuple[int, Any]:
    header = {"summary": "test", "description": "", **({"parentCommit": parent} if parent else {})}
    lines = [{"key": "header", "value": header}] + [
        {"key": "file", "value": {"path": p, "encoding": "base64", "content": base64.b64encode(d).decode()}}
        for p, d in files.items()
    ]
    status, _, payload = _call(hub, "POST", f"/api/models/{repo}/commit/main",
                               raw=b"".join(json.dumps(line).encode() + b"\n" for line in lines))
    return status, payload


@pytest.fixture
def hub() -> Iterator[LoopbackHub]:
    with LoopbackHub() as server:
        yield server


def test_binds_loopback_and_stops(hub: LoopbackHub) -> None:
    assert hub.endpoint.startswith("http://127.0.0.1:")
    endpoint = hub.endpoint
    hub.stop()
    with pytest.raises(RuntimeError):
        hub.endpoint
    with pytest.raises(OSError):
        urllib.request.urlopen(endpoint + "/api/models/a/b", timeout=2)


def test_create_commit_resolve(hub: LoopbackHub) -> None:
    status, _, created = _call(hub, "POST", "/api/repos/create", {"name": "pets", "organization": "alice"})
    assert status == 200 and created["url"] == f"{hub.endpoint}/alice/pets"
    status, _, again = _call(hub, "POST", "/api/repos/create", {"name": "pets", "organization": "alice"})
    assert status == 409 and again["url"] == created["url"]
    status, payload = _commit(hub, "alice/pets", {"a/b.txt": b"hello"})
    assert status == 200 and payload["commitUrl"].endswith(payload["commitOid"])
    sha = payload["commitOid"]
    status, headers, body = _call(hub, "GET", "/alice/pets/resolve/main/a/b.txt")
    assert (status, body) == (200, b"hello")
    assert headers["X-Repo-Commit"] == sha and headers["ETag"] == f'"{git_oid(b"hello")}"'
    assert headers["Content-Length"] == "5"
    status, headers, body = _call(hub, "HEAD", f"/alice/pets/resolve/{sha}/a/b.txt")
    assert status == 200 and body == b"" and headers["Content-Length"] == "5"
    _, _, tree = _call(hub, "GET", f"/api/models/alice/pets/tree/{sha}?recursive=true")
    listing = [(e["type"], e["path"]) for e in tree]
    assert listing == [("file", ".gitattributes"), ("directory", "a"), ("file", "a/b.txt")]
    _, _, info = _call(hub, "GET", "/api/models/alice/pets/revision/main")
    assert info["sha"] == sha and {s["rfilename"] for s in info["siblings"]} == {".gitattributes", "a/b.txt"}
    _, _, commits = _call(hub, "GET", "/api/models/alice/pets/commits/main")
    assert len(commits) == 2 and commits[0]["id"] == sha and commits[0]["authors"][0]["user"]
    _, _, refs = _call(hub, "GET", "/api/models/alice/pets/refs")
    assert refs["branches"] == [{"name": "main", "ref": "refs/heads/main", "targetCommit": sha}]
    asked = [{"path": "a/b.txt", "sample": "", "size": 5}, {"path": "new", "sample": "", "size": 1}]
    _, _, modes = _call(hub, "POST", "/api/models/alice/pets/preupload/main", {"files": asked})
    assert [(f["uploadMode"], f["oid"]) for f in modes["files"]] == [("regular", git_oid(b"hello")), ("regular", None)]


def test_errors_carry_the_hub_error_codes(hub: LoopbackHub) -> None:
    status, headers, _ = _call(hub, "GET", "/api/models/no/repo")
    assert (status, headers["X-Error-Code"]) == (404, "RepoNotFound")
    _call(hub, "POST", "/api/repos/create", {"name": "pets", "organization": "alice"})
    status, headers, _ = _call(hub, "GET", "/api/models/alice/pets/revision/nope")
    assert (status, headers["X-Error-Code"]) == (404, "RevisionNotFound")
    status, headers, _ = _call(hub, "GET", "/alice/pets/resolve/main/missing.txt")
    assert (status, headers["X-Error-Code"]) == (404, "EntryNotFound") and len(headers["X-Repo-Commit"]) == 40
    status, headers, _ = _call(hub, "GET", "/alice/pets/resolve/refs%2Fpr%2F1/x")
    assert (status, headers["X-Error-Code"]) == (404, "RevisionNotFound")
    status, _ = _commit(hub, "alice/pets", {"x": b"1"}, parent="0" * 40)
    assert status == 412
    status, _, _ = _call(hub, "POST", "/api/models/alice/pets/commit/main", raw=b'{"key": "file", "value": {}}\n')
    assert status == 400  # a malformed request is a 400, never a 5xx the client would retry
    status, _, _ = _call(hub, "DELETE", "/api/repos/delete", {"name": "pets", "organization": "alice"})
    assert status == 200
    status, headers, _ = _call(hub, "DELETE", "/api/repos/delete", {"name": "pets", "organization": "alice"})
    assert (status, headers["X-Error-Code"]) == (404, "RepoNotFound")
    assert all(not line.startswith("GET /api/agent") for line in hub.log)


def test_environment_for_a_client_process(hub: LoopbackHub, tmp_path: Any) -> None:
    env = hub.env(tmp_path)
    assert env["HF_ENDPOINT"] == hub.endpoint and env["HF_HUB_DISABLE_TELEMETRY"] == "1"
    assert env["HF_HUB_CACHE"].startswith(str(tmp_path)) and env["HF_HUB_OFFLINE"] == "0"
    assert hub.env(tmp_path, offline=True)["HF_HUB_OFFLINE"] == "1"
    assert not any(key.startswith("HF_TOKEN") for key in hub.subprocess_env(tmp_path))
