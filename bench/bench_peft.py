"""Frozen, full and LoRA fine-tuning side by side: accuracy, saved-head bytes, training throughput.

Data and recipe are the demo's (graftzoo_vision.demo: scikit-learn digits at 64 px, split with seed 42,
`fine_tune(5)` after one frozen epoch at base_lr 1e-2); BENCH_PEFT_EPOCHS (default 5) sets the random
bodies' epochs after the frozen one.
Bodies: EfficientNet-Lite0 with its packaged ImageNet weights (the demo's), and a torchvision and a
timm body with random-but-fixed source weights (a safetensors file written with seed 0). Heads use
`lin_ftrs=[]` (pooling, BatchNorm, one Linear): fastai's default head alone holds a 2560x512 layer,
28 % of EfficientNet-Lite0's bytes, more than the whole 5 % budget (its share is printed too).

- frozen: the body stays frozen (BatchNorm trains, train_bn=True) for 1 + epochs epochs, one cycle
- full:   `fine_tune(epochs)`, every body weight trains after the frozen epoch (fastai's lr_mult=100)
- lora:   `fine_tune(epochs, adapters=LoRA())`, LoRA's defaults (BENCH_PEFT_R sets another rank) on the
          arch's default layers; with adapters fine_tune's default lr_mult is 1, so every group trains
          at base_lr/2 = 5e-3

Seeds: BENCH_PEFT_SEEDS (default "42", the demo's) are torch seeds set before each learner is built
(head init, shuffling, augmentation); the data split stays the demo's. Full and lora run once per seed
and report mean +- sd (sample sd); frozen training runs with the first seed only, because CPU is scarce.
BENCH_PEFT_BODIES picks bodies by index (0: Lite0, 1: resnet18, 2: resnet10t), BENCH_PEFT_MODES modes;
the docs are written only when all three modes ran, and only the rows of the bodies that ran are
replaced: the others stay as the file has them (each row names its seeds and epochs).

Bytes: `head.safetensors` of `save_head` over the full model's state dict in safetensors.
Throughput: training images per second of the unfrozen epochs (the training phase of each epoch,
timed by a callback; validation left out), full fine-tuning against LoRA, mean over seeds.

Run: OMP_NUM_THREADS=1 BENCH_PEFT_SEEDS=42,1,2 .venv/bin/python bench/bench_peft.py  (writes docs/benchmarks-peft.md)
The file's sections from its first `## ` heading on (the runs tried by hand, the verdicts) are written by
hand: the bench keeps them and rewrites only what comes before.
"""

from __future__ import annotations

import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from graftzoo.learner import Callback

RANDOM_EPOCHS = int(os.environ.get("BENCH_PEFT_EPOCHS", "5"))  # the demo's 5
R = int(os.environ["BENCH_PEFT_R"]) if os.environ.get("BENCH_PEFT_R") else None  # None: LoRA's default rank
ALL_BODIES = [  # (arch, weights, label, fine-tuning epochs after the frozen one)
    ("timm/tf_efficientnet_lite0", "default", "packaged ImageNet", 5),  # the demo's 5 epochs
    ("torchvision/resnet18", "random", "random, fixed (seed 0)", RANDOM_EPOCHS),
    ("timm/resnet10t", "random", "random, fixed (seed 0)", RANDOM_EPOCHS),
]
BODIES = [ALL_BODIES[int(i)] for i in os.environ.get("BENCH_PEFT_BODIES", "0,1,2").split(",")]
SEEDS = [int(s) for s in os.environ.get("BENCH_PEFT_SEEDS", "42").split(",")]  # torch seeds (init, shuffling); 42 is the demo's
MODES = os.environ.get("BENCH_PEFT_MODES", "frozen,full,lora").split(",")
DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks-peft.md"


def random_weights(arch: str, folder: Path) -> str:
    """`file://` weights for the whole `arch` network, random but fixed (seed 0)."""
    import torch
    from safetensors.torch import save_file

    import graftzoo
    from graftzoo.imports import import_attr

    spec = graftzoo.get_arch(arch)
    torch.manual_seed(0)
    net = import_attr(spec.factory)(**spec.factory_kwargs)
    path = folder / (arch.replace("/", "_") + ".safetensors")
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    return path.resolve().as_uri()


class TrainTimer(Callback):
    """Records the seconds and images of each epoch's training phase (validation left out)."""

    run_valid = False

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.images: list[int] = []
        self._start = 0.0

    def before_train(self) -> None:
        self._start = time.perf_counter()
        self.images.append(0)

    def after_step(self) -> None:
        self.images[-1] += len(self.learn.yb[0])

    def after_train(self) -> None:
        self.seconds.append(time.perf_counter() - self._start)


def learner(arch: str, weights: str, timer: TrainTimer, seed: int) -> Any:
    import torch

    from graftzoo_vision.demo import digits_loaders
    from graftzoo_vision.learner import vision_learner

    torch.manual_seed(seed)  # the data split stays the demo's (digits_loaders seeds it itself)
    return vision_learner(digits_loaders(), arch, weights=weights, lin_ftrs=[], quiet=True, cbs=[timer])


def train(arch: str, weights: str, mode: str, epochs: int, seed: int) -> tuple[Any, float, float]:
    """(learner, accuracy, training images per second of the unfrozen epochs) after training in `mode`."""
    from graftzoo.adapters import LoRA

    timer = TrainTimer()
    learn = learner(arch, weights, timer, seed)
    if mode == "frozen":
        learn.freeze()
        learn.fit_one_cycle(1 + epochs, 1e-2)
    else:
        lora = (LoRA() if R is None else LoRA(r=R)) if mode == "lora" else None
        learn.fine_tune(epochs, base_lr=1e-2, adapters=lora)
    speed = sum(timer.images[-epochs:]) / sum(timer.seconds[-epochs:])
    return learn, float(learn.validate()[1]), speed


def model_bytes(model: Any, folder: Path) -> int:
    from safetensors.torch import save_file

    path = folder / "full.safetensors"
    save_file({k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}, str(path))
    return path.stat().st_size


def default_head_share(arch: str, weights: str, folder: Path) -> float:
    """The bytes of fastai's default classify head (lin_ftrs=[512]) as a share of the whole model."""
    import graftzoo

    model = graftzoo.graft(arch, "classify", n_out=10, weights=weights)
    head = sum(v.numel() * v.element_size() for k, v in model.state_dict().items() if k.startswith("head."))
    return head / sum(v.numel() * v.element_size() for v in model.state_dict().values())


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="graftzoo-bench-peft-"))
    os.environ.setdefault("GRAFTZOO_HOME", str(work / "home"))
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    rows, notes = [], []
    for arch, kind, label, epochs in BODIES:
        weights = "default" if kind == "default" else random_weights(arch, work)
        result: dict[str, list[tuple[float, int, float]]] = {}
        for mode in MODES:
            seeds = SEEDS if mode != "frozen" else SEEDS[:1]  # CPU is scarce: see the docstring
            for seed in seeds:
                learn, acc, speed = train(arch, weights, mode, epochs, seed)
                folder = learn.save_head(work / f"{arch.replace('/', '_')}-{mode}-{seed}")
                result.setdefault(mode, []).append((acc, (folder / "head.safetensors").stat().st_size, speed))
                full = model_bytes(learn.model.merge() if mode == "lora" else learn.model, work)
                print(f"{arch} {mode} seed {seed}: accuracy {acc:.4f}, head {result[mode][-1][1] / full:.2%}, "
                      f"{speed:.0f} img/s", flush=True)
            if mode == "lora":
                adapters = learn.model.adapters
                notes.append(f"{arch}: LoRA r={adapters['r']} (alpha {adapters['alpha']:g}, BatchNorm {adapters['batch_norm']}) "
                             f"on {len(adapters['target_modules'])} layers ({', '.join(adapters['target_modules'][:2])}, ...)")
        share = default_head_share(arch, weights, work)
        rows.append((arch, f"{label}, 1 + {epochs} epochs", result, full, share))
    if set(MODES) >= {"frozen", "full", "lora"}:
        write_docs(rows, notes)


def mean_sd(values: list[float]) -> str:
    """`0.912 ± 0.008` (sample sd), or the lone value."""
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def write_docs(rows: list[Any], notes: list[str]) -> None:
    """Rewrite the generated part of DOCS: the rows and notes of the bodies that ran replace theirs, the others stay."""
    old = DOCS.read_text(encoding="utf-8") if DOCS.exists() else ""
    generated, hand = (old.split("\n## ", 1) + [""])[:2] if "\n## " in old else (old, "")
    table = {arch: _row(arch, label, result, full, share) for arch, label, result, full, share in rows}
    adapted = {note.split(":", 1)[0]: f"- {note}" for note in notes}
    for line in generated.splitlines():  # earlier rows and notes of the bodies that did not run this time
        arch = line.split(" | ", 1)[0].removeprefix("| ") if line.startswith("| ") else line.split(":", 1)[0].removeprefix("- ")
        if arch in {a for a, *_ in ALL_BODIES}:
            (table if line.startswith("| ") else adapted).setdefault(arch, line)
    order = [a for a, *_ in ALL_BODIES]
    lines = [
        "# Benchmark: parameter-efficient fine-tuning (LoRA) against frozen and full fine-tuning",
        "",
        "Written by `bench/bench_peft.py` (see its docstring for the method). Digits at 64 px (1437 train, 360 valid",
        "images, the demo's split), `fine_tune(epochs)` after one frozen epoch at base_lr 1e-2 (the demo's recipe, 1 + 5",
        "epochs; each row says its own); frozen trains 1 + epochs epochs with the first seed only.",
        "Heads with `lin_ftrs=[]`; LoRA with its defaults on each arch's default layers (see below), trained with fine_tune's",
        "adapter default `lr_mult=1` (every group at 5e-3); full fine-tuning with fastai's `lr_mult=100`.",
        "Full and LoRA accuracies are mean ± sd over the row's torch seeds.",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs shared with other jobs, torch threads "
        f"{os.environ.get('OMP_NUM_THREADS', '2')}; throughput is measured on a busy machine, so read ratios, not absolutes.",
        "",
        "| body | source weights, epochs | seeds | frozen acc | full FT acc | LoRA acc | LoRA - full (points, means) | frozen head | full FT head | LoRA head | LoRA / full throughput | default head's share |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        *[table[a] for a in order if a in table],
        "",
        "Head sizes are `head.safetensors` as a share of the whole model's state dict in safetensors.",
        "Adapted layers:",
        "",
        *[adapted[a] for a in order if a in adapted],
        "",
    ]
    DOCS.write_text("\n".join(lines) + ("\n## " + hand if hand else ""), encoding="utf-8")
    print(f"wrote {DOCS}")


def _row(arch: str, label: str, result: dict[str, list[tuple[float, int, float]]], full: int, share: float) -> str:
    acc = {m: [run[0] for run in runs] for m, runs in result.items()}
    size = {m: runs[0][1] / full for m, runs in result.items()}
    speed = {m: statistics.mean(run[2] for run in runs) for m, runs in result.items()}
    gap = 100 * (statistics.mean(acc["lora"]) - statistics.mean(acc["full"]))
    return (f"| {arch} | {label} | {', '.join(map(str, SEEDS))} | {mean_sd(acc['frozen'])} | {mean_sd(acc['full'])} | "
            f"{mean_sd(acc['lora'])} | {gap:+.1f} | {size['frozen']:.1%} | {size['full']:.1%} | {size['lora']:.2%} | "
            f"{speed['lora'] / speed['full']:.2f} ({speed['lora']:.0f} / {speed['full']:.0f} img/s) | {share:.1%} |")


if __name__ == "__main__":
    main()
