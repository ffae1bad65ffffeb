"""`graftzoo serve`: a resident predict server, so that each `graftzoo predict` skips torch's imports.

`graftzoo predict` spends seconds importing torch and torchvision and building the body before a
prediction that takes milliseconds. A server started once (`graftzoo serve --detach`) keeps them
loaded, with the last few heads it used; `graftzoo predict` hands it the request when one runs for
the same GRAFTZOO_HOME and prints what it answers. It stops after `--idle-timeout` seconds without
a request, on `graftzoo serve --stop`, or on SIGTERM.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from graftzoo.errors import GraftzooError

IDLE_TIMEOUT = 900.0  # seconds without a request before the server stops
START_SECONDS = 180.0  # how long `--detach` waits for the new server to answer


def add_serve_command(sub: Any) -> None:
    """Add `serve` to the `graftzoo` subparsers."""
    p = sub.add_parser("serve", help="keep a predict server running, so that `graftzoo predict` answers in a fraction of a second")
    p.add_argument("--idle-timeout", type=float, default=IDLE_TIMEOUT, help="stop after this many seconds without a request (default: 900)")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--detach", action="store_true", help="start it in the background and return once it answers")
    what.add_argument("--stop", action="store_true", help="stop the server of this GRAFTZOO_HOME")
    what.add_argument("--status", action="store_true", help="say whether one runs (exit 0) or not (exit 1)")
    p.add_argument("--json", action="store_true", help="--status as JSON")


def cmd_serve(args: argparse.Namespace) -> int:
    from graftzoo.serving.client import ask
    from graftzoo.serving.protocol import socket_path

    if args.idle_timeout <= 0:
        raise GraftzooError(f"--idle-timeout must be a positive number of seconds, got {args.idle_timeout:g}")
    if args.stop:
        reply = ask({"op": "stop"})
        print(f"stopped the predict server (pid {reply['pid']})" if reply else f"no predict server answers on {socket_path()}")
        return 0 if reply else 1
    if args.status:
        reply = ask({"op": "status"})
        if args.json:
            print(json.dumps(reply))
        elif reply:
            print(f"a predict server runs (pid {reply['pid']}), {reply['served']} predictions served, "
                  f"stops after {reply['idle_timeout']:g} s idle")
        else:
            print(f"no predict server answers on {socket_path()}")
        return 0 if reply else 1
    if args.detach:
        return _detach(args.idle_timeout)
    return _serve(args.idle_timeout)


def _serve(idle_timeout: float) -> int:
    """Serve in this process: imports first, so that the first request is as quick as the others."""
    from graftzoo.serving.heads import LoadedHeads
    from graftzoo.serving.predicting import answer_predict
    from graftzoo.serving.server import run_server

    import graftzoo.artifacts.load  # noqa: F401  (torch, the registry, the artifact readers)

    if importlib.util.find_spec("torchvision") is not None:
        import torchvision  # noqa: F401  (every image body needs it; it is most of predict's start-up)
    heads = LoadedHeads()

    def ready(path: Path) -> None:
        print(f"predict server (pid {os.getpid()}) answers on {path}; stops after {idle_timeout:g} s idle", flush=True)

    return run_server(lambda request: answer_predict(request, heads), idle_timeout, on_ready=ready)


def _detach(idle_timeout: float) -> int:
    """Start `graftzoo serve` in a new session, its output in `run/server.log`; return once it answers."""
    from graftzoo.serving.client import ask
    from graftzoo.serving.protocol import socket_path

    path = socket_path()
    if ask({"op": "status"}) is not None:
        raise GraftzooError(f"a predict server already answers on {path}: stop it with `graftzoo serve --stop`")
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    log = path.with_name("server.log")
    with open(log, "w") as out:
        child = subprocess.Popen([sys.executable, "-m", "graftzoo", "serve", "--idle-timeout", str(idle_timeout)],
                                 stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        reply = ask({"op": "status"})
        if reply is not None:
            print(f"predict server (pid {reply['pid']}) answers on {path}; stops after {idle_timeout:g} s idle "
                  "or on `graftzoo serve --stop`")
            return 0
        if child.poll() is not None:
            raise GraftzooError(f"the predict server exited with status {child.returncode} before answering: {_tail(log)}")
        time.sleep(0.1)
    child.terminate()
    raise GraftzooError(f"the predict server did not answer within {START_SECONDS:g} s; its log is {log}")


def _tail(log: Path) -> str:
    lines = log.read_text(errors="replace").strip().splitlines()
    return " | ".join(lines[-5:]) if lines else f"it wrote nothing to {log}"
