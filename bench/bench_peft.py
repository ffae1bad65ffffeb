"""Frozen, full and LoRA fine-tuning side by side: accuracy, saved-head bytes, training throughput.

Data and recipe are the demo's (graftzoo_vision.demo: scikit-learn digits at 64 px, seed 42,
`fine_tune(5)` after one frozen epoch at base_lr 1e-2); the random bodies train BENCH_PEFT_EPOCHS (1)
epochs after the frozen one, because CPU is scarce.
Bodies: EfficientNet-Lite0 with its packaged ImageNet weights (the demo's), and a torchvision and a
timm body with random-but-fixed source weights (a safetensors file written with seed 0). Heads use
`lin_ftrs=[]` (pooling, BatchNorm, one Linear): fastai's default head alone holds a 2560x512 layer,
28 % of EfficientNet-Lite0's bytes, more than the whole 5 % budget (its share is printed too).

- frozen: the body stays frozen (BatchNorm trains, train_bn=True) for 1 + epochs epochs, one cycle
- full:   `fine_tune(epochs)`, every body weight trains after the frozen epoch (fastai's lr_mult=100)
- lora:   `fine_tune(epochs, adapters=LoRA(r=R))`, the arch's default layers get rank-R adapters (R=2);
          with adapters fine_tune's default lr_mult is 1, so every group trains at base_lr/2 = 5e-3

Bytes: `head.safetensors` of `save_head` over the full model's state dict in safetensors.
Throughput: training images per second of the unfrozen epochs (the training phase of each epoch,
timed by a callback; validation left out), full fine-tuning against LoRA.

Run: OMP_NUM_THREADS=1 .venv/bin/python bench/bench_peft.py  (writes docs/benchmarks-peft.md)
The file's sections after the table (the runs tried by hand, the verdicts) are written by hand: keep them.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from graftzoo.learner import Callback

RANDOM_EPOCHS = int(os.environ.get("BENCH_PEFT_EPOCHS", "1"))
R = int(os.environ.get("BENCH_PEFT_R", "2"))
ALL_BODIES = [  # (arch, weights, label, fine-tuning epochs after the frozen one)
    ("timm/tf_efficientnet_lite0", "default", "packaged ImageNet", 5),  # the demo's 5 epochs
    ("torchvision/resnet18", "random", "random, fixed (seed 0)", RANDOM_EPOCHS),
    ("timm/resnet10t", "random", "random, fixed (seed 0)", RANDOM_EPOCHS),
]
BODIES = [ALL_BODIES[int(i)] for i in os.environ.get("BENCH_PEFT_BODIES", "0,1,2").split(",")]
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


def learner(arch: str, weights: str, timer: TrainTimer) -> Any:
    import torch

    from graftzoo_vision.demo import SEED, digits_loaders
    from graftzoo_vision.learner import vision_learner

    torch.manual_seed(SEED)
    return vision_learner(digits_loaders(), arch, weights=weights, lin_ftrs=[], quiet=True, cbs=[timer])


def train(arch: str, weights: str, mode: str, epochs: int) -> tuple[Any, float, float]:
    """(learner, accuracy, training images per second of the unfrozen epochs) after training in `mode`."""
    from graftzoo.adapters import LoRA

    timer = TrainTimer()
    learn = learner(arch, weights, timer)
    if mode == "frozen":
        learn.freeze()
        learn.fit_one_cycle(1 + epochs, 1e-2)
    else:
        learn.fine_tune(epochs, base_lr=1e-2, adapters=LoRA(r=R) if mode == "lora" else None)
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
        result: dict[str, Any] = {}
        for mode in ("frozen", "full", "lora"):
            learn, acc, speed = train(arch, weights, mode, epochs)
            folder = learn.save_head(work / f"{arch.replace('/', '_')}-{mode}")
            result[mode] = (acc, (folder / "head.safetensors").stat().st_size, speed)
            if mode == "lora":
                adapters = learn.model.adapters
                notes.append(f"{arch}: LoRA r={R} on {len(adapters['target_modules'])} layers "
                             f"({', '.join(adapters['target_modules'][:2])}, ...)")
            full = model_bytes(learn.model.merge() if mode == "lora" else learn.model, work)
            print(f"{arch} {mode}: accuracy {acc:.4f}, head {result[mode][1] / full:.2%}, {speed:.0f} img/s", flush=True)
        speed_full, speed_lora = result["full"][2], result["lora"][2]
        share = default_head_share(arch, weights, work)
        rows.append((arch, f"{label}, 1 + {epochs} epochs", result, full, speed_full, speed_lora, share))
        print(f"{arch}: throughput full {speed_full:.0f} img/s, lora {speed_lora:.0f} img/s", flush=True)
    write_docs(rows, notes)


def write_docs(rows: list[Any], notes: list[str]) -> None:
    lines = [
        "# Benchmark: parameter-efficient fine-tuning (LoRA) against frozen and full fine-tuning",
        "",
        "Written by `bench/bench_peft.py` (see its docstring for the method). Digits at 64 px (1437 train, 360 valid",
        "images, the demo's split and seed), `fine_tune(epochs)` after one frozen epoch at base_lr 1e-2: the demo's 5 epochs",
        f"for EfficientNet-Lite0, {RANDOM_EPOCHS} for the random bodies because CPU is scarce; frozen trains 1 + epochs epochs.",
        f"Heads with `lin_ftrs=[]`, LoRA rank {R} (alpha {2 * R}) on each arch's default layers, trained with fine_tune's",
        "adapter default `lr_mult=1` (every group at 5e-3); full fine-tuning with fastai's `lr_mult=100`.",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs shared with other jobs, torch threads "
        f"{os.environ.get('OMP_NUM_THREADS', '2')}; throughput is measured on a busy machine, so read ratios, not absolutes.",
        "",
        "| body | source weights, epochs | frozen acc | full FT acc | LoRA acc | LoRA - full (points) | frozen head | full FT head | LoRA head | LoRA / full throughput | default head's share |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for arch, label, result, full, speed_full, speed_lora, share in rows:
        acc = {m: result[m][0] for m in result}
        size = {m: result[m][1] / full for m in result}
        lines.append(
            f"| {arch} | {label} | {acc['frozen']:.3f} | {acc['full']:.3f} | {acc['lora']:.3f} | "
            f"{100 * (acc['lora'] - acc['full']):+.1f} | {size['frozen']:.1%} | {size['full']:.1%} | {size['lora']:.1%} | "
            f"{speed_lora / speed_full:.2f} ({speed_lora:.0f} / {speed_full:.0f} img/s) | {share:.1%} |"
        )
    lines += ["", "Head sizes are `head.safetensors` as a share of the whole model's state dict in safetensors.",
              "Adapted layers:", "", *[f"- {n}" for n in notes], ""]
    DOCS.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {DOCS}")


if __name__ == "__main__":
    main()
