"""Helpers shared by the artifact tests, and the scenarios they run against the loopback Hub.

The Hub scenarios run in a fresh process (see conftest.py: `huggingface_hub` reads HF_ENDPOINT once,
when first imported). Usage: python kit.py SCENARIO WORKDIR NAMESPACE WEIGHTS_REF; prints one JSON
object on its last line.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

import graftzoo
from graftzoo.imports import import_attr

ARCH = "vision/xresnet18"
CLASSES = ["cat", "dog", "fish"]


def write_weights(path: Path, seed: int = 0, arch: str = ARCH) -> str:
    """Random weights for the whole `arch` network in a safetensors file; returns its `file://` ref."""
    spec = graftzoo.get_arch(arch)
    torch.manual_seed(seed)
    net = import_attr(spec.factory)(**spec.factory_kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    return path.resolve().as_uri()


def make_model(weights: str | None, n_out: int = 3, **kwargs: Any) -> Any:
    torch.manual_seed(1)
    return graftzoo.graft(ARCH, "classify", n_out=n_out, weights=weights, **kwargs)


def train_frozen(model: Any, step: float = 0.1) -> list[str]:
    """What training with a frozen body and train_bn=True changes: some BatchNorm stats and
    parameters of the body, and the head. Returns the body keys changed (as state-dict keys)."""
    changed = []
    with torch.no_grad():
        norms = [(n, m) for n, m in model.body.named_modules() if isinstance(m, torch.nn.BatchNorm2d)]
        for name, module in norms[::2]:
            module.running_mean.add_(step)
            module.running_var.mul_(1 + step)
            module.bias.add_(step)
            changed += [f"body.{name}.{k}" for k in ("running_mean", "running_var", "bias")]
        for p in model.head.parameters():
            p.add_(step * torch.randn_like(p))
    return sorted(changed)


def train_unfrozen(model: Any) -> None:
    """After unfreeze(): every floating tensor of the model moves."""
    with torch.no_grad():
        for tensor in model.state_dict().values():
            if tensor.is_floating_point():
                tensor.add_(0.01 * torch.randn_like(tensor) + 0.001)


def inputs(n: int = 2, size: int = 64) -> torch.Tensor:
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(7))


def logits(model: Any, x: torch.Tensor | None = None) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        return model(inputs() if x is None else x)


# -- scenarios run against the loopback Hub -------------------------------------------------------

def _error(call: Any) -> dict[str, Any]:
    try:
        call()
    except Exception as exc:  # the test checks the class and the message
        return {"type": type(exc).__name__, "message": str(exc)}
    return {"type": None, "message": ""}


def _snapshots(repo_id: str) -> list[str]:
    from huggingface_hub import constants

    repo = Path(constants.HF_HUB_CACHE) / f"models--{repo_id.replace('/', '--')}"
    return sorted(p.name for p in (repo / "snapshots").iterdir()) if (repo / "snapshots").is_dir() else []


def _blobs(repo_id: str) -> list[str]:
    from huggingface_hub import constants

    blobs = Path(constants.HF_HUB_CACHE) / f"models--{repo_id.replace('/', '--')}" / "blobs"
    return sorted(p.name for p in blobs.iterdir()) if blobs.is_dir() else []


def hf_roundtrip(work: Path, ns: str, weights: str) -> dict[str, Any]:
    from graftzoo.artifacts import load_head, pull_head, push_head

    model = make_model(weights)
    train_frozen(model)
    before = logits(model)
    first = push_head(model, f"{ns}/pets", hub="hf", commit_message="first head")
    by_main, by_sha = load_head(f"hf://{ns}/pets"), load_head(first.ref)
    train_frozen(model, step=0.2)
    after = logits(model)
    second = push_head(model, f"hf://{ns}/pets", commit_message="second head")
    copy = pull_head(f"hf://{ns}/pets@{first.sha}", to=work / "copy")
    card = (copy / "README.md").read_text()
    return {
        "first": first.sha, "second": second.sha, "first_ref": first.ref,
        "main_equal": torch.equal(logits(by_main), before), "sha_equal": torch.equal(logits(by_sha), before),
        "main_after_second": torch.equal(logits(load_head(f"hf://{ns}/pets")), after),
        "main_at_second": torch.equal(logits(load_head(f"hf://{ns}/pets@main")), after),
        "first_after_second": torch.equal(logits(load_head(first.ref)), before),
        "copy_files": sorted(p.name for p in copy.iterdir()),
        "card_ref": f'load_head("hf://{ns}/pets")' in card,
        "vocab": by_main.vocab,
    }


def hf_broken(work: Path, ns: str, weights: str) -> dict[str, Any]:
    from graftzoo.artifacts import load_head, pull_head, push_head, save_head
    from graftzoo.hub import push_folder

    model = make_model(weights)
    train_frozen(model)
    good = save_head(model, work / "good", vocab=CLASSES)
    truncated = work / "truncated"
    shutil.copytree(good, truncated)
    data = (truncated / "head.safetensors").read_bytes()
    (truncated / "head.safetensors").write_bytes(data[: len(data) // 2])
    plugin = work / "plugin"
    shutil.copytree(good, plugin)
    config = json.loads((plugin / "graftzoo.json").read_text())
    config["arch"] = "text/awd_lstm"
    (plugin / "graftzoo.json").write_text(json.dumps(config))
    os.environ["GRAFTZOO_DISABLE_PLUGINS"] = "text"  # as if graftzoo-text were not installed
    graftzoo.registry.reset()
    out: dict[str, Any] = {"push_refused": _error(lambda: push_head(truncated, f"hf://{ns}/never"))}
    out["never_pushed"] = _error(lambda: load_head(f"hf://{ns}/never"))
    for name, folder in (("truncated", truncated), ("plugin", plugin)):
        revision = push_folder(folder, f"hf://{ns}/{name}")
        out[name] = _error(lambda: load_head(f"hf://{ns}/{name}"))
        out[f"{name}_snapshots"] = _snapshots(f"{ns}/{name}")
        out[f"{name}_blobs"] = _blobs(f"{ns}/{name}")
        out[f"{name}_pull_to"] = _error(lambda: pull_head(revision.ref, to=work / f"{name}-copy"))
        out[f"{name}_copy_exists"] = (work / f"{name}-copy").exists()
        out[f"{name}_snapshots_after_pull"] = _snapshots(f"{ns}/{name}")
    out["leftovers"] = sorted(p.name for p in work.iterdir() if p.name.startswith("."))
    return out


if __name__ == "__main__":
    scenario_name, workdir, namespace, weights_ref = sys.argv[1:5]
    scenario = {f.__name__: f for f in (hf_roundtrip, hf_broken)}[scenario_name]
    Path(workdir).mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    result = scenario(Path(workdir), namespace, weights_ref)
    result["seconds"] = time.monotonic() - start
    print(json.dumps(result))
