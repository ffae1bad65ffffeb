"""The predict request: what `graftzoo predict` sends (`predict_on_server`) and how the server answers it.

A request carries `graftzoo predict`'s options as plain JSON values, the client's working folder
(relative paths mean what they meant there) and graftzoo's version (a server of another version
declines, and the client predicts itself). The reply is the output the command would have printed.
"""

from __future__ import annotations

import argparse
import io
import os
from typing import Any

import graftzoo
from graftzoo.errors import GraftzooError
from graftzoo.serving.client import ask
from graftzoo.serving.heads import LoadedHeads

OPTIONS: dict[str, tuple[type, ...]] = {  # `graftzoo predict`'s options and the JSON types they may take
    "ref": (str,), "files": (list,), "csv": (str, type(None)), "top_k": (int,), "json": (bool,),
}


def predict_on_server(args: argparse.Namespace) -> dict[str, Any] | None:
    """The running server's `{"stdout", "stderr", "code"}` for these `graftzoo predict` options, or None.

    None when no server runs, it is another graftzoo version, or it could not do it: the caller predicts itself.
    """
    request = {"op": "predict", "version": graftzoo.__version__, "cwd": os.getcwd(),
               "options": {name: getattr(args, name) for name in OPTIONS}}
    reply = ask(request)
    if reply is None or not {"stdout", "stderr", "code"} <= set(reply):
        return None
    return reply


def answer_predict(request: dict[str, Any], heads: LoadedHeads) -> dict[str, Any]:
    """Run one predict request with `heads`' loaded models; `{"error": ...}` when it is not one to run here."""
    from graftzoo.registry.cli_artifacts import run_predict

    if request.get("version") != graftzoo.__version__:
        return {"error": f"this server runs graftzoo {graftzoo.__version__}, the request came from {request.get('version')!r}"}
    options, problem = _options(request.get("options"))
    cwd = request.get("cwd")
    if problem or not isinstance(cwd, str) or not os.path.isdir(cwd):
        return {"error": problem or f"the request's working folder {cwd!r} is not a folder here"}
    out, err = io.StringIO(), io.StringIO()
    before = os.getcwd()
    try:
        os.chdir(cwd)
        code = run_predict(argparse.Namespace(**options), heads.load, out, err)
    except GraftzooError as exc:  # as `graftzoo predict` reports it
        print(f"error: {exc}", file=err)
        code = 2
    except Exception as exc:  # not ours to explain: the client runs it itself and shows the traceback
        return {"error": f"the server failed: {exc!r}"}
    finally:
        os.chdir(before)
    return {"stdout": out.getvalue(), "stderr": err.getvalue(), "code": code}


def _options(options: Any) -> tuple[dict[str, Any], str | None]:
    """The options as keyword arguments, or what is wrong with them."""
    if not isinstance(options, dict) or set(options) != set(OPTIONS):
        return {}, f"a predict request needs exactly the options {sorted(OPTIONS)}"
    for name, types in OPTIONS.items():
        value = options[name]
        if not isinstance(value, types) or (name == "top_k" and isinstance(value, bool)):
            return {}, f"the option {name!r} has the wrong type ({type(value).__name__})"
    if not all(isinstance(f, str) for f in options["files"]):
        return {}, "the option 'files' must list strings"
    return options, None
