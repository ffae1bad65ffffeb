"""What the server does with a predict request that is not one to run: it says why and runs nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import graftzoo
from graftzoo.serving.heads import LoadedHeads
from graftzoo.serving.predicting import answer_predict

GOOD = {"ref": "some/head", "files": ["a.png"], "csv": None, "top_k": 1, "json": False}


class NoHeads(LoadedHeads):
    def load(self, ref: Any) -> Any:
        raise AssertionError(f"nothing may be loaded for this request, got {ref!r}")


def _request(tmp_path: Path, **changes: Any) -> dict[str, Any]:
    request = {"op": "predict", "version": graftzoo.__version__, "cwd": str(tmp_path), "options": dict(GOOD)}
    options = changes.pop("options", {})
    request["options"].update(options)
    request.update(changes)
    return request


@pytest.mark.parametrize("changes, says", [
    ({"version": "0.0.1"}, "request came from '0.0.1'"),
    ({"cwd": "/no/such/folder"}, "working folder '/no/such/folder'"),
    ({"options": {"top_k": True}}, "'top_k' has the wrong type"),
    ({"options": {"files": ["a.png", 3]}}, "'files' must list strings"),
    ({"options": {"ref": {"module": "os:system"}}}, "'ref' has the wrong type"),
    ({"options": {"code": "import os"}}, "exactly the options"),
])
def test_requests_that_are_not_predict_options_are_declined(tmp_path: Path, changes: dict[str, Any], says: str) -> None:
    reply = answer_predict(_request(tmp_path, **changes), NoHeads())
    assert set(reply) == {"error"} and says in reply["error"]


def test_a_bad_option_value_is_reported_as_predict_reports_it(tmp_path: Path) -> None:
    reply = answer_predict(_request(tmp_path, options={"top_k": 0}), NoHeads())
    assert reply == {"stdout": "", "stderr": "error: --top-k must be at least 1, got 0\n", "code": 2}
