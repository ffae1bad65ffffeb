"""A saved head against the full model: bytes on disk and load time.

Body: torchvision/resnet34 with a 37-class classify head, "trained" frozen with train_bn=True
(every BatchNorm's parameters and statistics changed, and the head). The source weights are random
weights in a safetensors file standing in for ImageNet's (no downloads here); size and timing do
not depend on the values. Compares `load_head` from the local hub with rebuilding the model and
loading its full state dict from one safetensors file (median of RUNS).

Run: .venv/bin/python bench/bench_artifact.py  (writes docs/benchmarks-artifacts.md)
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ARCH, N_OUT, RUNS = "torchvision/resnet34", 37, 7
DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks-artifacts.md"


def median_s(fn: Callable[[], Any], before: Callable[[], None] = lambda: None) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(RUNS):
        before()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def train_frozen_with_bn(model: Any) -> None:
    """What fine-tuning a frozen body with train_bn=True changes: every norm layer, and the head."""
    import torch

    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for module in model.body.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.add_(0.01 * torch.randn(module.running_mean.shape, generator=gen))
                module.running_var.mul_(1.01)
                module.weight.add_(0.01)
                module.bias.add_(0.01)
                module.num_batches_tracked.add_(100)
        for p in model.head.parameters():
            p.add_(0.01 * torch.randn(p.shape, generator=gen))


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="graftzoo-bench-"))
    os.environ["GRAFTZOO_HOME"] = str(work / "home")
    import torch
    from safetensors.torch import load_file, save_file

    import graftzoo
    from graftzoo.artifacts import load_head, push_head, save_head
    from graftzoo.artifacts.fingerprint import forget_fingerprints
    from graftzoo.imports import import_attr

    torch.set_num_threads(1)  # steadier on a shared machine; both contenders run under the same setting
    spec = graftzoo.get_arch(ARCH)
    torch.manual_seed(0)
    source = work / "resnet34-imagenet-standin.safetensors"
    save_file(import_attr(spec.factory)(**spec.factory_kwargs).state_dict(), str(source))
    model = graftzoo.graft(ARCH, "classify", n_out=N_OUT, weights=source.as_uri())
    train_frozen_with_bn(model)
    model.eval()

    full_file = work / "full-model.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(full_file))
    full_bytes = sum(t.numel() * t.element_size() for t in model.state_dict().values())
    start = time.perf_counter()
    folder = save_head(model, work / "pets-head", vocab=[f"breed_{i}" for i in range(N_OUT)])
    save_s = time.perf_counter() - start
    head_bytes = (folder / "head.safetensors").stat().st_size
    artifact_bytes = sum(p.stat().st_size for p in folder.iterdir())
    ref = push_head(folder, "bench/pets").ref

    def load_full() -> Any:
        rebuilt = graftzoo.from_config(model.config, weights=False)
        rebuilt.load_state_dict(load_file(str(full_file)))
        return rebuilt.eval()

    load_head(ref)  # warm up imports and the registry, as both contenders get
    load_full()
    full_s, full_model = median_s(load_full)
    warm_s, loaded = median_s(lambda: load_head(ref))
    cold_s, _ = median_s(lambda: load_head(ref), before=forget_fingerprints)
    x = torch.rand(2, 3, 224, 224)
    with torch.no_grad():
        same = torch.equal(loaded(x), model(x)) and torch.equal(full_model(x), model(x))

    rows = [
        ("full model state dict (tensor bytes)", f"{full_bytes:,} bytes", "100%"),
        ("full model, one safetensors file", f"{full_file.stat().st_size:,} bytes", f"{full_file.stat().st_size / full_bytes:.1%}"),
        ("artifact `head.safetensors`", f"{head_bytes:,} bytes", f"**{head_bytes / full_bytes:.2%}**"),
        ("artifact folder (with graftzoo.json, README.md)", f"{artifact_bytes:,} bytes", f"{artifact_bytes / full_bytes:.2%}"),
    ]
    times = [
        ("`save_head` (diff against the source weights, fingerprint, write)", save_s),
        ("`from_config(weights=False)` + `load_state_dict(load_file(full))`", full_s),
        ("`load_head('local://bench/pets@…')`, fingerprint remembered", warm_s),
        ("`load_head(…)`, fingerprint recomputed (as in a fresh process)", cold_s),
    ]
    text = "\n".join([
        "# Benchmark: a saved head against the full model",
        "",
        f"`bench/bench_artifact.py`: `{ARCH}` body, {N_OUT}-class `vision/classify` head, trained frozen with "
        "`train_bn=True` (simulated: every BatchNorm's weight, bias and running statistics changed, and the head). "
        "The source weights are random weights in a safetensors file standing in for ImageNet's (no downloads here); "
        "sizes and times do not depend on the values.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}, "
        f"torch {torch.__version__}, one torch thread; medians of {RUNS} runs in one process. Loaded predictions identical to the "
        f"trained model's: **{same}**.",
        "",
        "## Size (target: at most 3% of the full state dict)",
        "",
        "| what | bytes | of the full state dict |",
        "|---|---:|---:|",
        *(f"| {a} | {b} | {c} |" for a, b, c in rows),
        "",
        f"The artifact stores the head and {len(loaded.artifact_info['body_tensors'])} changed BatchNorm tensors of the body.",
        "",
        "## Time",
        "",
        "| operation | seconds |",
        "|---|---:|",
        *(f"| {a} | {s:.3f} |" for a, s in times),
        "",
        "`load_head` checks the config and the file's sha256, reads the tensor header, sizes the head on the meta "
        "device, checks the source weights' fingerprint (sha256 over ~87 MB, remembered per file for the life of the "
        "process), builds the body from its source weights and loads the stored tensors. Loading the full model "
        "skips the checks and the second read of the weights but has no way to share or verify the body.",
        "",
    ])
    DOCS.write_text(text)
    print(text)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
