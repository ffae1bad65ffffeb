"""Scenarios run by test_hf_hub.py in a fresh process pointed at the loopback Hub (see conftest.py),
and the artifact helpers every hub test shares (this file imports no huggingface_hub at import time).

Usage: python hf_scenarios.py SCENARIO WORKDIR [ARGS...]; prints one JSON object on its last line.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from graftzoo.hub import HfHub, pull_folder, push_folder


def write_artifact(folder: Path, version: int = 1) -> Path:
    """A folder shaped like a saved head (the bytes are arbitrary); conftest.py uses it too."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "head.safetensors").write_bytes(bytes(range(256)) * 4 * version)
    (folder / "graftzoo.json").write_text(json.dumps({"format": 1, "version": version}))
    (folder / "README.md").write_text("---\nlibrary_name: graftzoo\ntags: [graftzoo]\n---\n# A head\n")
    return folder


def read_tree(folder: Path) -> dict[str, bytes]:
    """posix path -> bytes of every file under `folder`."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _tree(folder: Path) -> dict[str, str]:
    return {path: data.decode("latin-1") for path, data in read_tree(folder).items()}


def _error(call: Any) -> dict[str, Any]:
    start = time.monotonic()
    try:
        call()
    except Exception as exc:  # the test checks the class and message
        return {"type": type(exc).__name__, "mro": [c.__name__ for c in type(exc).__mro__],
                "message": str(exc), "seconds": time.monotonic() - start}
    return {"type": None, "seconds": time.monotonic() - start}


def roundtrip(work: Path, ns: str) -> dict[str, Any]:
    hub = HfHub(files=None)  # pull whole revisions, so extra.txt shows that the second push deleted it
    folder = write_artifact(work / "v1")
    (folder / "extra.txt").write_text("only in v1")
    first = hub.push(folder, f"{ns}/pets", commit_message="first head")
    by_main, by_sha = hub.pull(f"{ns}/pets"), hub.pull(f"{ns}/pets", first.sha)
    again = hub.push(folder, f"{ns}/pets")
    second_folder = write_artifact(work / "v2", version=2)
    second = hub.push(second_folder, f"{ns}/pets", commit_message="second head")
    return {
        "repo_id": first.repo_id, "first": first.sha, "first_url": first.url, "second": second.sha, "again": again.sha,
        "v1": _tree(folder), "v2": _tree(second_folder),
        "main_after_first": _tree(by_main), "sha_after_first": _tree(by_sha),
        "main_after_second": _tree(hub.pull(f"{ns}/pets", "main")),
        "first_after_second": _tree(hub.pull(f"{ns}/pets", first.sha)),
        "revisions": [[r.sha, r.message] for r in hub.list_revisions(f"{ns}/pets")],
        "branch": hub.push(second_folder, f"{ns}/pets", revision="dev").sha,
        "dev": _tree(hub.pull(f"{ns}/pets", "dev")),
    }


def front(work: Path, ns: str) -> dict[str, Any]:
    revision = push_folder(write_artifact(work / "a"), f"hf://{ns}/head", commit_message="via the front")
    return {"ref": revision.ref, "sha": revision.sha, "tree": _tree(pull_folder(revision.ref)),
            "main": _tree(pull_folder(f"hf://{ns}/head@main"))}


def errors(work: Path, ns: str) -> dict[str, Any]:
    hub = HfHub()
    head = hub.push(write_artifact(work / "a"), f"{ns}/head").sha
    broken = write_artifact(work / "b", version=2)
    (broken / "c-unreadable.bin").symlink_to(broken / "does-not-exist")
    return {
        "interrupted": _error(lambda: hub.push(broken, f"{ns}/head")),
        "head_unchanged": hub.list_revisions(f"{ns}/head")[0].sha == head,
        "missing_repo": _error(lambda: hub.pull(f"{ns}/nothing-here")),
        "missing_branch": _error(lambda: hub.pull(f"{ns}/head", "no-such-branch")),
        "missing_sha": _error(lambda: hub.pull(f"{ns}/head", "0" * 40)),
        "missing_repo_revisions": _error(lambda: hub.list_revisions(f"{ns}/nothing-here")),
    }


def pull_sha(work: Path, ns: str, repo_id: str, sha: str) -> dict[str, Any]:
    return {"tree": _tree(HfHub().pull(repo_id, sha))}


def offline(work: Path, ns: str, cached_repo: str = "", cached_sha: str = "") -> dict[str, Any]:
    hub = HfHub()
    out = {
        "uncached": _error(lambda: hub.pull(f"{ns}/never-pulled")),
        "uncached_sha": _error(lambda: hub.pull(f"{ns}/never-pulled", "a" * 40)),
        "push": _error(lambda: hub.push(write_artifact(work / "a"), f"{ns}/head")),
    }
    if cached_sha:
        out["cached"] = _tree(hub.pull(cached_repo, cached_sha))
    return out


def unreachable(work: Path, ns: str) -> dict[str, Any]:
    hub = HfHub()
    return {"pull": _error(lambda: hub.pull(f"{ns}/head")),
            "pull_sha": _error(lambda: hub.pull(f"{ns}/head", "b" * 40)),
            "push": _error(lambda: hub.push(write_artifact(work / "a"), f"{ns}/head"))}


def weights(work: Path, ns: str) -> dict[str, Any]:
    """Push a body's full weights as model.safetensors, then build the body from `hf://` references."""
    import torch
    from safetensors.torch import save_file

    import graftzoo
    from graftzoo.imports import import_attr

    spec = graftzoo.get_arch("vision/xresnet18")
    torch.manual_seed(3)
    full = import_attr(spec.factory)()
    folder = work / "weights"
    folder.mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in full.state_dict().items()}, str(folder / "model.safetensors"))
    (folder / "alt").mkdir()
    save_file({k: v.contiguous() for k, v in full.state_dict().items()}, str(folder / "alt" / "w.safetensors"))
    sha = HfHub().push(folder, f"{ns}/xr18").sha
    expected = full.state_dict()
    out = {}
    for ref in (f"hf://{ns}/xr18", f"hf://{ns}/xr18@{sha}", f"hf://{ns}/xr18@main/alt/w.safetensors"):
        body = graftzoo.create_body("vision/xresnet18", weights=ref)
        out[ref] = all(torch.equal(v, expected[k]) for k, v in body.net.state_dict().items())
    out["missing_file"] = _error(lambda: graftzoo.create_body("vision/xresnet18", weights=f"hf://{ns}/xr18/nope.safetensors"))
    out["missing_repo"] = _error(lambda: graftzoo.create_body("vision/xresnet18", weights=f"hf://{ns}/absent"))
    return out


if __name__ == "__main__":
    name, workdir, *rest = sys.argv[1:]
    scenario = {f.__name__: f for f in (roundtrip, front, errors, pull_sha, offline, unreachable, weights)}[name]
    print(json.dumps(scenario(Path(workdir), *rest)))
