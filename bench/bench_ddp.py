"""DDP throughput and per-step overhead: one process against `torchrun --nproc_per_node=N`.

    python bench/bench_ddp.py                       # CPU (gloo) or CUDA (NCCL, one GPU per process)
    python bench/bench_ddp.py --arch vision/xresnet18 --size 64 --images 512 --global-bs 64 --nproc 2

Three runs of the same Learner on the same synthetic images (results are printed as a markdown table):
  1. one process, the whole global batch per step                 -> the single-process baseline
  2. N processes under torchrun, global batch / N per process       -> data-parallel throughput
  3. one process, global batch / N per step                         -> the same per-process work without DDP
Step time of (2) minus step time of (3) is what DDP adds per step (gradient all-reduce, the loss
average, synchronisation). Each run does one warm-up epoch, then times `--epochs` epochs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def worker(args: argparse.Namespace) -> dict[str, Any]:
    """Train and time; returns the numbers of this process (rank 0's are reported)."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    import graftzoo
    from graftzoo.learner import Callback, Learner
    from graftzoo.learner import distributed as ddp

    ddp.init_from_env()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    g = torch.Generator().manual_seed(0)
    x = torch.rand(args.images, 3, args.size, args.size, generator=g)
    y = torch.randint(0, 10, (args.images,), generator=g)

    class Dls:
        def __init__(self) -> None:
            self.train = DataLoader(TensorDataset(x, y), batch_size=args.bs, shuffle=True, drop_last=True)
            self.valid = None
            self.seed = 0

    class StepTimer(Callback):
        order = 100

        def __init__(self) -> None:
            self.times: list[float] = []

        def before_batch(self) -> None:
            self._t = time.perf_counter()

        def after_batch(self) -> None:
            if self.learn.device.type == "cuda":
                torch.cuda.synchronize()
            self.times.append(time.perf_counter() - self._t)

    torch.manual_seed(0)
    model = graftzoo.graft(args.arch, "classify", n_out=10, weights=None)
    learn = Learner(Dls(), model, quiet=True, metrics=[])
    learn.fit(1, lr=1e-3)  # warm-up
    timer = StepTimer()
    start = time.perf_counter()
    learn.fit(args.epochs, lr=1e-3, cbs=[timer])
    wall = time.perf_counter() - start
    world = ddp.world_size()
    allreduce_ms = None
    if world > 1:  # the bare cost of averaging one step's gradients (all parameters train here)
        import torch.distributed as dist

        grads = torch.zeros(sum(p.numel() for p in learn.model.parameters()), device=learn.device)
        times = []
        for _ in range(5):
            dist.barrier()
            t = time.perf_counter()
            dist.all_reduce(grads)
            if learn.device.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t)
        allreduce_ms = 1000 * statistics.median(times)
    samples = len(timer.times) * args.bs * world
    return {"world": world, "bs": args.bs, "steps": len(timer.times), "step_ms": 1000 * statistics.median(timer.times),
            "samples_per_s": samples / wall, "device": str(learn.device), "allreduce_ms": allreduce_ms,
            "params": sum(p.numel() for p in learn.model.parameters())}


def launch(args: argparse.Namespace, bs: int, nproc: int, out: Path) -> dict[str, Any]:
    script = [str(Path(__file__).resolve()), "--worker", str(out), "--arch", args.arch, "--images", str(args.images),
              "--size", str(args.size), "--bs", str(bs), "--epochs", str(args.epochs)]
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"), "GLOO_SOCKET_IFNAME": "lo"}
    cmd = [sys.executable, *script] if nproc == 1 else [
        sys.executable, "-m", "torch.distributed.run", "--nnodes=1", f"--nproc_per_node={nproc}",
        "--rdzv-backend=c10d", "--rdzv-endpoint=127.0.0.1:0", *script]
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--arch", default="vision/xresnet18")
    p.add_argument("--images", type=int, default=256, help="training images")
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--global-bs", type=int, default=32)
    p.add_argument("--bs", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--nproc", type=int, default=2)
    p.add_argument("--epochs", type=int, default=2)
    args = p.parse_args()
    if args.worker:
        res = worker(args)
        if res["world"] == 1 or int(os.environ.get("RANK", "0")) == 0:
            Path(args.worker).write_text(json.dumps(res))
        return
    per = args.global_bs // args.nproc
    with tempfile.TemporaryDirectory() as tmp:
        runs = [
            ("1 process, global batch", launch(args, args.global_bs, 1, Path(tmp) / "a.json")),
            (f"{args.nproc} processes (DDP), {per} each", launch(args, per, args.nproc, Path(tmp) / "b.json")),
            (f"1 process, batch {per} (no DDP)", launch(args, per, 1, Path(tmp) / "c.json")),
        ]
    print(f"arch {args.arch}, {args.images} images {args.size}px, global batch {args.global_bs}, device {runs[0][1]['device']}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '1')}\n")
    print("| run | batch/process | steps | median step (ms) | samples/s |")
    print("|---|---|---|---|---|")
    for name, r in runs:
        print(f"| {name} | {r['bs']} | {r['steps']} | {r['step_ms']:.1f} | {r['samples_per_s']:.1f} |")
    overhead = runs[1][1]["step_ms"] - runs[2][1]["step_ms"]
    speedup = runs[1][1]["samples_per_s"] / runs[0][1]["samples_per_s"]
    print(f"\nDDP overhead per step: {overhead:.1f} ms (of which a bare all-reduce of the {runs[1][1]['params'] / 1e6:.1f}M "
          f"gradients: {runs[1][1]['allreduce_ms']:.1f} ms); throughput {args.nproc} processes / 1 process: {speedup:.2f}x")


if __name__ == "__main__":
    main()
