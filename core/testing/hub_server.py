"""A loopback Hugging Face Hub for tests: the subset of the Hub protocol `huggingface_hub` uses
to create repos, commit folders and download snapshots, served on 127.0.0.1 from memory.

    with LoopbackHub() as hub:
        env = hub.subprocess_env(tmp_path)   # HF_ENDPOINT, a fresh HF_HOME / HF_HUB_CACHE, no telemetry
        subprocess.run([sys.executable, "script.py"], env=env, check=True, timeout=120)

`huggingface_hub` reads HF_ENDPOINT once, when first imported, so point a *fresh* process at the
server (or set the variables before anything imports the client). Expected errors are 404/409/412
with the Hub's `X-Error-Code` header, never 5xx (the client retries those for minutes).

`LoopbackHub(stalled=True)` is a network that hangs: it accepts every connection, reads the
request, logs it and never answers (until `stop()`), for testing timeouts. Named as HTTPS_PROXY,
it hangs the requests to every other host too (their CONNECT is logged).
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from graftzoo.testing.hub_repo import HubProtocolError, Repo, commit_history, git_oid, tree_listing

_TYPES = frozenset({"models", "datasets", "spaces"})
_GITATTRIBUTES = b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n*.bin filter=lfs diff=lfs merge=lfs -text\n"
_MAX_BODY = 512 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    """Routes one request to the store of the LoopbackHub that owns the server."""

    protocol_version = "HTTP/1.1"
    timeout = 15  # an idle keep-alive connection frees its thread after this many seconds
    server: _Server

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_CONNECT(self) -> None:  # a client using the server as its HTTPS proxy (stalled mode hangs it)
        self._dispatch("CONNECT")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        self.server.hub.log.append(f"{self.command} {self.path}")

    def _dispatch(self, method: str) -> None:
        hub = self.server.hub
        if hub.stalled:
            hub.log.append(f"{method} {self.path}")
            hub.released.wait()
            self.close_connection = True
            return
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.split("/")[1:]]
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            self.close_connection = True
            self._send(413, {"error": "body too large"})
            return
        body = self.rfile.read(length) if length else b""
        try:
            with hub.lock:
                status, payload, headers = hub.handle(method, parts, parse_qs(url.query), body)
        except HubProtocolError as err:
            headers = {"X-Error-Message": err.message, **err.headers}
            if err.code:
                headers["X-Error-Code"] = err.code
            self._send(err.status, {"error": err.message, **err.body}, headers, head=method == "HEAD")
            return
        except Exception as err:  # a request the loopback Hub cannot read: 400, never 5xx (no retries)
            message = f"The loopback Hub could not handle this request: {err!r}"
            self._send(400, {"error": message}, {"X-Error-Message": message[:500]}, head=method == "HEAD")
            return
        self._send(status, payload, headers, head=method == "HEAD")

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None, head: bool = False) -> None:
        if isinstance(payload, bytes):
            data, kind = payload, "application/octet-stream"
        else:
            data, kind = json.dumps(payload).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():  # header values must be one latin-1 line
            self.send_header(key, " ".join(value.split()).encode("latin-1", "replace").decode("latin-1"))
        self.end_headers()
        if not head:
            self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    hub: LoopbackHub


class LoopbackHub:
    """An in-memory Hub on 127.0.0.1 (port 0: any free port); `start()`/`stop()` or `with`.

    With `stalled=True` it answers nothing: each request is logged, then left hanging until `stop()`.
    """

    def __init__(self, port: int = 0, stalled: bool = False) -> None:
        self.port = port
        self.stalled = stalled
        self.released = threading.Event()
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lock = threading.Lock()
        self.log: deque[str] = deque(maxlen=1000)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        """`http://127.0.0.1:PORT` (the value for HF_ENDPOINT)."""
        if self._server is None:
            raise RuntimeError("LoopbackHub is not started: call start() or use it in a `with` block.")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> LoopbackHub:
        """Bind 127.0.0.1 and serve in a daemon thread."""
        if self._server is None:
            self.released.clear()
            self._server = _Server(("127.0.0.1", self.port), _Handler)
            self._server.hub = self
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="loopback-hub", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (stalled requests end without an answer)."""
        self.released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self) -> LoopbackHub:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def env(self, home: str | os.PathLike[str], offline: bool = False) -> dict[str, str]:
        """Environment for a process that talks to this server, with its HF cache under `home`."""
        home = Path(home)
        return {
            "HF_ENDPOINT": self.endpoint,
            "HF_HOME": str(home / "hf-home"),
            "HF_HUB_CACHE": str(home / "hf-home" / "hub"),
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
            "HF_HUB_OFFLINE": "1" if offline else "0",
            "HF_HUB_ETAG_TIMEOUT": "5",
            "HF_HUB_DOWNLOAD_TIMEOUT": "5",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }

    def subprocess_env(self, home: str | os.PathLike[str], offline: bool = False) -> dict[str, str]:
        """`os.environ` without any inherited HF_* setting or token, plus `env(home, offline)`."""
        inherited = {
            key: value for key, value in os.environ.items()
            if not key.startswith(("HF_", "HUGGINGFACE_")) and key not in ("TRANSFORMERS_OFFLINE",)
        }
        return {**inherited, **self.env(home, offline)}

    # -- the protocol ----------------------------------------------------------------------------

    def handle(self, method: str, parts: list[str], query: dict[str, list[str]], body: bytes) -> tuple:
        """(status, JSON-able or bytes payload, headers) for one request; raises HubProtocolError."""
        if parts[:2] == ["api", "repos"] and len(parts) == 3:
            return self._repos(method, parts[2], _json(body))
        if parts == ["api", "validate-yaml"] and method == "POST":
            return 200, {"errors": [], "warnings": []}, {}
        if len(parts) >= 4 and parts[0] == "api" and parts[1] in _TYPES:
            repo = self._repo(parts[1], f"{parts[2]}/{parts[3]}")
            return self._api(method, repo, parts[1], parts[4:], query, body)
        kind = parts[0] if parts and parts[0] in ("datasets", "spaces") else "models"
        rest = parts[1:] if kind != "models" else parts
        if len(rest) >= 5 and rest[2] == "resolve" and method in ("GET", "HEAD"):
            return self._resolve(self._repo(kind, f"{rest[0]}/{rest[1]}"), rest[3], "/".join(rest[4:]))
        raise HubProtocolError(404, None, f"The loopback Hub does not serve {method} /{'/'.join(parts)}")

    def _repo(self, kind: str, repo_id: str) -> Repo:
        repo = self.repos.get((kind, repo_id))
        if repo is None:
            raise HubProtocolError(404, "RepoNotFound", f"Repository not found: {repo_id}")
        return repo

    def _sha(self, repo: Repo, revision: str) -> str:
        sha = repo.resolve(revision)
        if sha is None:
            raise HubProtocolError(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        return sha

    def _repos(self, method: str, action: str, data: dict[str, Any]) -> tuple:
        kind = f"{data.get('type') or 'model'}s"
        repo_id = f"{data.get('organization')}/{data.get('name')}"
        url = self.endpoint + ("" if kind == "models" else f"/{kind}") + f"/{repo_id}"
        if action == "create" and method == "POST":
            if not data.get("organization") or not data.get("name") or kind not in _TYPES:
                raise HubProtocolError(400, None, "Give a repo id of the form 'namespace/name'")
            if (kind, repo_id) in self.repos:
                raise HubProtocolError(409, None, "You already created this model repo", body={"url": url})
            repo = Repo(repo_id, bool(data.get("private")) or data.get("visibility") == "private")
            repo.commit("main", {".gitattributes": _GITATTRIBUTES}, "initial commit")
            self.repos[(kind, repo_id)] = repo
            return 200, {"url": url, "name": repo_id, "id": repo_id}, {}
        if action == "delete" and method == "DELETE":
            self._repo(kind, repo_id)
            del self.repos[(kind, repo_id)]
            return 200, {}, {}
        raise HubProtocolError(404, None, f"Unknown repos action {method} {action}")

    def _api(self, method: str, repo: Repo, kind: str, rest: list[str], query: dict, body: bytes) -> tuple:
        what = rest[0] if rest else ""
        if method == "GET" and what in ("", "revision"):
            return 200, self._info(repo, self._sha(repo, "/".join(rest[1:]) if rest else "main")), {}
        if method == "GET" and what == "tree" and len(rest) >= 2:
            recursive = query.get("recursive", ["false"])[0].lower() in ("1", "true")
            return 200, tree_listing(repo.commits[self._sha(repo, rest[1])], "/".join(rest[2:]), recursive), {}
        if method == "GET" and what == "refs":
            branches = [{"name": b, "ref": f"refs/heads/{b}", "targetCommit": s} for b, s in repo.branches.items()]
            tags = [{"name": t, "ref": f"refs/tags/{t}", "targetCommit": s} for t, s in repo.tags.items()]
            return 200, {"branches": branches, "tags": tags, "converts": []}, {}
        if method == "GET" and what == "commits" and len(rest) >= 2:
            return 200, commit_history(repo, self._sha(repo, "/".join(rest[1:]))), {}
        if method == "POST" and what == "preupload" and len(rest) >= 2:
            files = repo.commits[self._sha(repo, "/".join(rest[1:]))].files
            answer = [
                {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False,
                 "oid": git_oid(files[f["path"]]) if f["path"] in files else None}
                for f in _json(body).get("files", [])
            ]
            return 200, {"files": answer}, {}
        if method == "POST" and what == "commit" and len(rest) >= 2:
            return self._commit(repo, kind, "/".join(rest[1:]), body)
        if method == "POST" and what == "branch" and len(rest) >= 2:
            branch = "/".join(rest[1:])
            if branch in repo.branches:
                raise HubProtocolError(409, None, f"Branch {branch} already exists")
            start = _json(body).get("startingPoint") or "main"
            repo.branches[branch] = self._sha(repo, start)
            return 200, {}, {}
        raise HubProtocolError(404, None, f"The loopback Hub does not serve {method} .../{'/'.join(rest)}")

    def _info(self, repo: Repo, sha: str) -> dict[str, Any]:
        commit = repo.commits[sha]
        siblings = [{"rfilename": p, "size": len(d)} for p, d in sorted(commit.files.items())]
        return {"id": repo.repo_id, "_id": repo.repo_id, "sha": sha, "private": repo.private, "disabled": False,
                "gated": False, "lastModified": commit.date, "tags": [], "siblings": siblings}

    def _commit(self, repo: Repo, kind: str, revision: str, body: bytes) -> tuple:
        if revision not in repo.branches:
            raise HubProtocolError(404, "RevisionNotFound", f"Invalid rev id: {revision} (commit to a branch)")
        files = dict(repo.commits[repo.branches[revision]].files)
        header: dict[str, Any] = {}
        for line in body.splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            key, value = item.get("key"), item.get("value", {})
            if key == "header":
                header = value
            elif key == "file":
                if value.get("encoding", "base64") != "base64":
                    raise HubProtocolError(400, None, "The loopback Hub takes base64 file content only")
                files[value["path"]] = base64.b64decode(value["content"])
            elif key == "deletedFile":
                if files.pop(value["path"], None) is None:
                    raise HubProtocolError(404, "EntryNotFound", f"A file with this name doesn't exist: {value['path']}")
            elif key == "deletedFolder":
                prefix = value["path"].rstrip("/") + "/"
                files = {p: d for p, d in files.items() if not p.startswith(prefix)}
            else:
                raise HubProtocolError(400, None, f"The loopback Hub cannot apply a {key!r} operation (regular files only)")
        parent = header.get("parentCommit")
        if parent and parent != repo.branches[revision]:
            raise HubProtocolError(412, None, "A commit has happened since. Please refresh and try again.")
        new = repo.commit(revision, files, header.get("summary") or "update", header.get("description") or "")
        prefix = "" if kind == "models" else f"/{kind}"
        url = f"{self.endpoint}{prefix}/{repo.repo_id}/commit/{new.sha}"
        return 200, {"success": True, "commitOid": new.sha, "commitUrl": url, "hookOutput": ""}, {}

    def _resolve(self, repo: Repo, revision: str, path: str) -> tuple:
        sha = self._sha(repo, revision)
        data = repo.commits[sha].files.get(path)
        if data is None:
            raise HubProtocolError(404, "EntryNotFound", f"Entry not found: {path}", headers={"X-Repo-Commit": sha})
        return 200, data, {"X-Repo-Commit": sha, "ETag": f'"{git_oid(data)}"'}


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except ValueError as exc:
        raise HubProtocolError(400, None, f"Body is not JSON: {exc}") from None
    return data if isinstance(data, dict) else {}
