"""Benchmark: graftzoo Learner vs a hand-written PyTorch loop doing the same work.

(a) resnet18 (torchvision, random init, 10 classes) on random 64-px images, batch 64,
    AdamW + one-cycle (Learner.fit_one_cycle vs torch OneCycleLR), one validation
    pass; images/second. (b) per-batch overhead with nn.Linear(10, 2) on batches of 4.
Runs are interleaved (A B A B ...) in one process; medians are reported. Both loops
call `loss.item()` once per training batch (the Learner's recorder does; a hand loop
that logs its loss does too). Results print as markdown and go to
docs/benchmarks-learner.md.

    .venv/bin/python bench/bench_learner.py            # about 2 minutes on 2 CPU cores
    .venv/bin/python bench/bench_learner.py --quick    # a smoke run, seconds
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from graftzoo.learner import Learner
from graftzoo.metrics import accuracy

ROOT = Path(__file__).resolve().parents[1]


class Dls:
    def __init__(self, train: object, valid: object) -> None:
        self.train, self.valid = train, valid


def hand_loop(model: nn.Module, train: object, valid: object, lr_max: float, item: bool = True) -> None:
    """What Learner.fit_one_cycle(1, lr_max) does, written by hand."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr_max)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=lr_max, total_steps=len(train), pct_start=0.25, div_factor=25.0,
        final_div_factor=1e5 / 25.0, base_momentum=0.85, max_momentum=0.95,
    )
    loss_func = nn.CrossEntropyLoss()
    model.train()
    for xb, yb in train:
        loss = loss_func(model(xb), yb)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        sched.step()
        if item:
            loss.item()
    model.eval()
    total, correct, n = 0.0, 0.0, 0
    with torch.no_grad():
        for xb, yb in valid:
            out = model(xb)
            total += loss_func(out, yb) * len(yb)
            correct += accuracy(out, yb) * len(yb)
            n += len(yb)
    float(total / n), float(correct / n)


def interleave(runs: dict[str, Callable[[], None]], reps: int) -> dict[str, list[float]]:
    """Time each run `reps` times, alternating between them; one untimed warm-up each."""
    for f in runs.values():
        f()
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(reps):
        for name, f in runs.items():
            t = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - t)
    return times


def bench_resnet(n_train: int, reps: int) -> dict[str, float]:
    torch.set_num_threads(2)
    torch.manual_seed(0)
    bs = 64
    x = torch.randn((n_train + 1) * bs, 3, 64, 64)
    y = torch.randint(0, 10, (len(x),))
    train = DataLoader(TensorDataset(x[: n_train * bs], y[: n_train * bs]), batch_size=bs)
    valid = DataLoader(TensorDataset(x[n_train * bs :], y[n_train * bs :]), batch_size=bs)
    model_a = torchvision.models.resnet18(num_classes=10)
    model_b = torchvision.models.resnet18(num_classes=10)
    learn = Learner(Dls(train, valid), model_a, nn.CrossEntropyLoss(), metrics=[accuracy], quiet=True, device="cpu")
    times = interleave(
        {"learner": lambda: learn.fit_one_cycle(1, 1e-3, reset_opt=True), "hand": lambda: hand_loop(model_b, train, valid, 1e-3)},
        reps,
    )
    n_img = (n_train + 1) * bs
    return {k: n_img / statistics.median(v) for k, v in times.items()} | {
        f"{k}_spread": (max(v) - min(v)) / statistics.median(v) for k, v in times.items()
    }


def bench_overhead(n_batches: int, reps: int) -> dict[str, float]:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x, y = torch.randn(n_batches * 4, 10), torch.randint(0, 2, (n_batches * 4,))
    train = [(x[i : i + 4], y[i : i + 4]) for i in range(0, len(x), 4)]  # no DataLoader cost in either loop
    valid = train[:2]
    model_a, model_b, model_c = nn.Linear(10, 2), nn.Linear(10, 2), nn.Linear(10, 2)
    learn = Learner(Dls(train, valid), model_a, nn.CrossEntropyLoss(), metrics=[accuracy], quiet=True, device="cpu")
    times = interleave(
        {
            "learner": lambda: learn.fit_one_cycle(1, 1e-3, reset_opt=True),
            "hand": lambda: hand_loop(model_b, train, valid, 1e-3),
            "hand_no_item": lambda: hand_loop(model_c, train, valid, 1e-3, item=False),
        },
        reps,
    )
    per = {k: statistics.median(v) / (n_batches + 2) * 1e6 for k, v in times.items()}
    diffs = sorted((a - b) / (n_batches + 2) * 1e6 for a, b in zip(times["learner"], times["hand"]))
    return per | {"overhead_us": statistics.median(diffs)}


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{cpu}, {os.cpu_count()} cores visible, {platform.system()} {platform.release()}, Python "
        f"{platform.python_version()}, torch {torch.__version__}, torchvision {torchvision.__version__}; "
        f"load average at start {load:.1f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks-learner.md")
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args()
    where = machine()
    t0 = time.perf_counter()
    n_train, r_reps, n_batches, o_reps = (1, 1, 50, 2) if args.quick else (5, 4, 2000, 7)
    res = bench_resnet(n_train, r_reps)
    ovh = bench_overhead(n_batches, o_reps)
    took = time.perf_counter() - t0
    ratio = res["learner"] / res["hand"]
    md = f"""# Learner benchmark

Measured by `bench/bench_learner.py` on {time.strftime('%Y-%m-%d')} ({took:.0f} s).

Machine: {where}.

## (a) resnet18, 64-px random images, batch 64, AdamW + one-cycle (2 threads)

{n_train} training batches + 1 validation batch per run, {r_reps} interleaved runs each, medians.

| loop | images/s | (max-min)/median |
|---|---|---|
| `Learner.fit_one_cycle` | {res['learner']:.1f} | {res['learner_spread']:.0%} |
| hand-written loop + `OneCycleLR` | {res['hand']:.1f} | {res['hand_spread']:.0%} |

Learner / hand: **{ratio:.3f}**.

## (b) per-batch overhead, `nn.Linear(10, 2)`, batches of 4 (1 thread)

{n_batches} training + 2 validation batches per run (pre-built lists, no DataLoader), {o_reps} interleaved runs, medians.

| loop | µs per batch |
|---|---|
| `Learner.fit_one_cycle` | {ovh['learner']:.1f} |
| hand loop + `OneCycleLR`, `loss.item()` per batch | {ovh['hand']:.1f} |
| hand loop + `OneCycleLR`, no `loss.item()` | {ovh['hand_no_item']:.1f} |

Learner overhead over the hand loop: **{ovh['overhead_us']:.1f} µs per batch** (median of paired differences; target < 300 µs).

## How to run

    .venv/bin/python bench/bench_learner.py           # full run (< 3 min), rewrites this file
    .venv/bin/python bench/bench_learner.py --quick --no-write

The numbers are wall-clock on a shared machine: other processes compete for the
cores, so compare the two loops of one run (they are interleaved), not runs
made at different times.
"""
    print(md)
    if not args.no_write and not args.quick:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(md)


if __name__ == "__main__":
    main()
