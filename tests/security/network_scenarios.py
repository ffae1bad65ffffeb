"""Network scenarios run by test_network_security.py, each in a fresh process (huggingface_hub reads
HF_ENDPOINT once, at import), pointed at a loopback Hub that answers, hangs, or is not there.

Usage: python network_scenarios.py SCENARIO WORKDIR NAMESPACE [ARGS...]; prints one JSON object on its
last line. Errors are reported by class names (with the MRO), message and seconds taken.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TIMM_REPO = "timm/mobilenetv3_small_050.lamb_in1k"
TIMM_FILES = ["model.safetensors", "pytorch_model.bin"]
TORCHVISION_REF = "torchvision:ResNet18_Weights.IMAGENET1K_V1"
URL_CHECKPOINT = "https://download.pytorch.org/models/never-fetched-12345678.pth"
JUNK_BYTES = 1 << 20


def _error(call: Callable[[], Any]) -> dict[str, Any]:
    start = time.monotonic()
    try:
        call()
    except Exception as exc:  # the test checks the class and message
        return {"type": type(exc).__name__, "mro": [c.__name__ for c in type(exc).__mro__],
                "message": str(exc), "seconds": time.monotonic() - start}
    return {"type": None, "mro": [], "message": "", "seconds": time.monotonic() - start}


def _artifact(folder: Path) -> Path:
    """A folder with a saved head's three file names (arbitrary bytes: only the transfer is checked)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "head.safetensors").write_bytes(bytes(range(256)) * 4)
    (folder / "graftzoo.json").write_text(json.dumps({"format": 1}))
    (folder / "README.md").write_text("---\nlibrary_name: graftzoo\n---\n# A head\n")
    return folder


def _network_calls(work: Path, ns: str, names: list[str]) -> dict[str, Callable[[], Any]]:
    """The network calls graftzoo makes (those in `names`), each against repos nobody has pulled here.

    The modules they need are imported here, before any call is timed.
    """
    from graftzoo.hub import HfHub

    hub = HfHub()
    folder = _artifact(work / "head")
    calls: dict[str, Callable[[], Any]] = {
        "pull": lambda: hub.pull(f"{ns}/head"),
        "pull_sha": lambda: hub.pull(f"{ns}/head", "c" * 40),
        "push": lambda: hub.push(folder, f"{ns}/head"),
        "list_revisions": lambda: hub.list_revisions(f"{ns}/head"),
    }
    if "hf_weights" in names:
        from graftzoo.hub.hf_weights import HfWeights

        calls["hf_weights"] = lambda: HfWeights().resolve(f"hf://{ns}/weights")
    if "timm_hub" in names:
        from graftzoo_timm.hub_cache import hub_file

        calls["timm_hub"] = lambda: hub_file(TIMM_REPO, TIMM_FILES)
    if "timm_url" in names:
        from graftzoo_timm.weights import url_file

        calls["timm_url"] = lambda: url_file(URL_CHECKPOINT)
    if "torchvision" in names:
        from graftzoo_torchvision.weights import TorchvisionWeights

        source = TorchvisionWeights(cache_dir=work / "torchvision")
        source.checkpoint(TORCHVISION_REF)  # imports torchvision
        calls["torchvision"] = lambda: source.resolve(TORCHVISION_REF)
    return {name: calls[name] for name in names}


def calls(work: Path, ns: str, names: str) -> dict[str, Any]:
    """Run the network calls `names` (comma-separated): call name -> error."""
    selected = _network_calls(work, ns, names.split(","))
    return {name: _error(call) for name, call in selected.items()}


def switched(work: Path, ns: str, names: str, switches: str) -> dict[str, Any]:
    """The calls `names` with each offline variable of `switches` set to 1 in turn, while running
    (huggingface_hub is imported with them off, as in a long-running process): switch -> call -> error."""
    import huggingface_hub  # noqa: F401

    selected = _network_calls(work, ns, names.split(","))
    out = {}
    for switch in switches.split(","):
        os.environ[switch] = "1"
        out[switch] = {name: _error(call) for name, call in selected.items()}
        del os.environ[switch]
    return out


def junk(work: Path, ns: str) -> dict[str, Any]:
    """Push a head with a large junk file beside it, pull it, and see what reached the cache."""
    from huggingface_hub import constants

    from graftzoo.hub import HfHub, pull_folder

    folder = _artifact(work / "head")
    (folder / "junk.bin").write_bytes(os.urandom(JUNK_BYTES))
    sha = HfHub().push(folder, f"{ns}/head").sha
    pulled = pull_folder(f"hf://{ns}/head")
    by_sha = pull_folder(f"hf://{ns}/head@{sha}")
    os.environ["GRAFTZOO_OFFLINE"] = "1"
    offline = _error(lambda: pull_folder(f"hf://{ns}/head@{sha}"))
    offline_files = sorted(p.name for p in pull_folder(f"hf://{ns}/head@{sha}").iterdir()) if offline["type"] is None else []
    cache = Path(constants.HF_HUB_CACHE)
    sizes = [p.stat().st_size for p in cache.rglob("*") if p.is_file() and not p.is_symlink()]
    return {
        "pulled": sorted(p.name for p in pulled.iterdir()),
        "by_sha": sorted(p.name for p in by_sha.iterdir()),
        "cache_bytes": sum(sizes),
        "largest_cached": max(sizes, default=0),
        "junk_in_cache": any(p.name == "junk.bin" for p in cache.rglob("*")),
        "offline": offline,
        "offline_files": offline_files,
    }


if __name__ == "__main__":
    name, workdir, namespace, *rest = sys.argv[1:]
    scenario = {"calls": calls, "switched": switched, "junk": junk}[name]
    print(json.dumps(scenario(Path(workdir), namespace, *rest)))
