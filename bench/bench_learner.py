"""Benchmark: graftzoo Learner vs a hand-written PyTorch loop doing the same work.

(a) resnet18 (torchvision, random init, 10 classes) on random 64-px images, batch 64,
    AdamW + one-cycle (Learner.fit_one_cycle vs torch OneCycleLR), one validation
    pass; images/second. (b) per-batch overhead with nn.Linear(10, 2) on batches of 4.
Runs are interleaved (A B, B A, ...) in one process; medians are reported. Both loops
call `loss.item()` once per training batch (the Learner's recorder does; a hand loop
that logs its loss does too). Results print as markdown and go to
docs/benchmarks-learner.md.

    .venv/bin/python bench/bench_learner.py            # about a minute on 2 idle CPU cores
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


def interleave(runs: dict[str, Callable[[], None]], reps: int) -> dict[str, dict[str, list[float]]]:
    """Time each run `reps` times, interleaved A B, B A, A B ... (so neither always goes
    first): wall clock and CPU time of this process (CPU time is what the loop costs;
    wall also counts waiting for a core on a shared machine)."""
    times: dict[str, dict[str, list[float]]] = {k: {"wall": [], "cpu": []} for k in runs}
    for rep in range(reps):
        order = list(runs.items()) if rep % 2 == 0 else list(runs.items())[::-1]
        for name, f in order:
            w, c = time.perf_counter(), time.process_time()
            f()
            times[name]["cpu"].append(time.process_time() - c)
            times[name]["wall"].append(time.perf_counter() - w)
    return times


def _warm_up(model: nn.Module, xb: torch.Tensor, yb: torch.Tensor) -> None:
    nn.functional.cross_entropy(model(xb), yb).backward()
    model.zero_grad(set_to_none=True)


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
    for m in (model_a, model_b):
        _warm_up(m, x[:bs], y[:bs])
    learn = Learner(Dls(train, valid), model_a, nn.CrossEntropyLoss(), metrics=[accuracy], quiet=True, device="cpu")
    times = interleave(
        {"learner": lambda: learn.fit_one_cycle(1, 1e-3, reset_opt=True), "hand": lambda: hand_loop(model_b, train, valid, 1e-3)},
        reps,
    )
    n_img = (n_train + 1) * bs
    out: dict[str, float] = {}
    for k, v in times.items():
        out[f"{k}_wall"] = n_img / statistics.median(v["wall"])
        out[f"{k}_cpu"] = n_img / statistics.median(v["cpu"])
        out[f"{k}_spread"] = (max(v["wall"]) - min(v["wall"])) / statistics.median(v["wall"])
    for c in ("wall", "cpu"):  # per pair: hand time / learner time = learner speed relative to hand
        out[f"paired_{c}"] = statistics.median(h / l for l, h in zip(times["learner"][c], times["hand"][c]))
    return out


def bench_overhead(n_batches: int, reps: int) -> dict[str, float]:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x, y = torch.randn(n_batches * 4, 10), torch.randint(0, 2, (n_batches * 4,))
    train = [(x[i : i + 4], y[i : i + 4]) for i in range(0, len(x), 4)]  # no DataLoader cost in either loop
    valid = train[:2]
    model_a, model_b, model_c = nn.Linear(10, 2), nn.Linear(10, 2), nn.Linear(10, 2)
    learn = Learner(Dls(train, valid), model_a, nn.CrossEntropyLoss(), metrics=[accuracy], quiet=True, device="cpu")
    runs = {
        "learner": lambda: learn.fit_one_cycle(1, 1e-3, reset_opt=True),
        "hand": lambda: hand_loop(model_b, train, valid, 1e-3),
        "hand_no_item": lambda: hand_loop(model_c, train, valid, 1e-3, item=False),
    }
    for f in runs.values():  # warm-up
        f()
    times = interleave(runs, reps)
    n = n_batches + 2
    out = {f"{k}_{c}": statistics.median(v[c]) / n * 1e6 for k, v in times.items() for c in ("wall", "cpu")}
    for c in ("wall", "cpu"):
        diffs = [(a - b) / n * 1e6 for a, b in zip(times["learner"][c], times["hand"][c])]
        out[f"overhead_{c}"] = statistics.median(diffs)
    return out


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
    n_train, r_reps, n_batches, o_reps = (1, 2, 50, 2) if args.quick else (2, 4, 1500, 5)
    res = bench_resnet(n_train, r_reps)
    ovh = bench_overhead(n_batches, o_reps)
    took = time.perf_counter() - t0
    md = f"""# Learner benchmark

Measured by `bench/bench_learner.py` on {time.strftime('%Y-%m-%d')} ({took:.0f} s).

Machine: {where}.

Each figure is given twice: from the wall clock, and from the CPU time of the
benchmark process (`time.process_time`). On a machine shared with other jobs the
wall clock also counts time spent waiting for a core; CPU time is what the loop
itself costs.

## (a) resnet18, 64-px random images, batch 64, AdamW + one-cycle (2 threads)

{n_train} training batches + 1 validation batch per run, {r_reps} interleaved runs each, medians.

| loop | images/s (wall) | images per CPU-second | wall (max-min)/median |
|---|---|---|---|
| `Learner.fit_one_cycle` | {res['learner_wall']:.1f} | {res['learner_cpu']:.1f} | {res['learner_spread']:.0%} |
| hand-written loop + `OneCycleLR` | {res['hand_wall']:.1f} | {res['hand_cpu']:.1f} | {res['hand_spread']:.0%} |

Learner speed / hand-loop speed: **{res['learner_wall'] / res['hand_wall']:.3f}** (wall), **{res['learner_cpu'] / res['hand_cpu']:.3f}** (CPU);
median over interleaved pairs: {res['paired_wall']:.3f} (wall), {res['paired_cpu']:.3f} (CPU).

## (b) per-batch overhead, `nn.Linear(10, 2)`, batches of 4 (1 thread)

{n_batches} training + 2 validation batches per run (pre-built lists, no DataLoader), {o_reps} interleaved runs, medians.

| loop | µs per batch (wall) | CPU µs per batch |
|---|---|---|
| `Learner.fit_one_cycle` | {ovh['learner_wall']:.1f} | {ovh['learner_cpu']:.1f} |
| hand loop + `OneCycleLR`, `loss.item()` per batch | {ovh['hand_wall']:.1f} | {ovh['hand_cpu']:.1f} |
| hand loop + `OneCycleLR`, no `loss.item()` | {ovh['hand_no_item_wall']:.1f} | {ovh['hand_no_item_cpu']:.1f} |

Learner overhead over the hand loop (median of paired differences, target < 300 µs):
**{ovh['overhead_cpu']:.1f} µs CPU** per batch ({ovh['overhead_wall']:.1f} µs wall).

## How to run

    .venv/bin/python bench/bench_learner.py           # full run, rewrites this file
    .venv/bin/python bench/bench_learner.py --quick --no-write

The full run needs about 70 s of CPU time (about a minute on an idle 2-core
machine; the wall time grows with the machine's load). Compare the loops of one
run (they are interleaved), not runs made at different times or under different
load: at high load the resnet18 figures move by several percent from run to run
in both directions, so a ratio within about 5% of 1 is a tie.
"""
    print(md)
    if not args.no_write and not args.quick:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(md)


if __name__ == "__main__":
    main()
