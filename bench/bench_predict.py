"""`graftzoo predict HEAD image.png` as a user feels it: whole-process wall and CPU time, and where it goes.

A small head (EfficientNet-Lite0 body with its packaged ImageNet weights, frozen, a 10-class head)
is saved once; then each measured run is a fresh process, as at a shell prompt. The breakdown
times the phases inside one fresh process. Then the same command with a `graftzoo serve` running
(started with `--detach` in the run's own GRAFTZOO_HOME): the first call to a fresh server (it loads
the head) and the calls after it. Prints Markdown tables; asserts nothing.
Run: `.venv/bin/python bench/bench_predict.py [--runs 3]`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PHASES = r"""
import json, sys, time
marks = [("start", time.perf_counter())]
import torch; marks.append(("import torch", time.perf_counter()))
import torchvision; marks.append(("import torchvision (torch._dynamo, sympy)", time.perf_counter()))
from graftzoo.artifacts.load import load_head; marks.append(("import graftzoo.artifacts.load", time.perf_counter()))
model = load_head(sys.argv[1]); marks.append(("load_head (registry, body build, weights, checks)", time.perf_counter()))
model.predict([sys.argv[2]]); marks.append(("first predict (opens the image through graftzoo_vision.data)", time.perf_counter()))
model.predict([sys.argv[2]]); marks.append(("second predict", time.perf_counter()))
print(json.dumps([(name, round(1000 * (t - prev), 1)) for (name, t), (_, prev) in zip(marks[1:], marks)]))
"""


def save_small_head(folder: Path) -> tuple[Path, Path]:
    """A frozen EfficientNet-Lite0 head on 32-px digits, and one PNG to predict."""
    from PIL import Image

    from graftzoo_vision import ImageDataLoaders, vision_learner
    from graftzoo_vision.datasets import digits

    images, labels, classes = digits(size=32)
    dls = ImageDataLoaders.from_tensors(images[:64], labels[:64], vocab=classes, seed=0, bs=16)
    learn = vision_learner(dls, "timm/tf_efficientnet_lite0")
    head = learn.save_head(folder / "digits-head")
    image = folder / "digit.png"
    Image.fromarray(images[0][0].numpy()).save(image)
    return head, image


def timed_run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        head, image = save_small_head(Path(tmp))
        commands = {
            "`python -c pass`": [sys.executable, "-c", "pass"],
            "`python -c 'import torch'`": [sys.executable, "-c", "import torch"],
            "`python -c 'import torchvision'`": [sys.executable, "-c", "import torchvision"],
            "`graftzoo predict HEAD digit.png`": [sys.executable, "-m", "graftzoo", "predict", str(head), str(image)],
        }
        print(f"load average before: {os.getloadavg()[0]:.1f}\n")
        print(f"| command | wall, median of {args.runs} (s) | CPU, median (s) |\n|---|---|---|")
        for name, argv in commands.items():
            runs = [timed_run(argv, env) for _ in range(args.runs)]
            print(f"| {name} | {statistics.median(w for w, _ in runs):.2f} | {statistics.median(c for _, c in runs):.2f} |")
        done = subprocess.run([sys.executable, "-c", PHASES, str(head), str(image)], env=env, check=True, capture_output=True, text=True)
        print("\n| phase of one `predict` process | ms |\n|---|---|")
        for name, ms in json.loads(done.stdout.strip().splitlines()[-1]):
            print(f"| {name} | {ms} |")
        served_env = {**env, "GRAFTZOO_HOME": str(Path(tmp) / "home")}
        graftzoo = [sys.executable, "-m", "graftzoo"]
        start = time.perf_counter()
        subprocess.run([*graftzoo, "serve", "--detach"], env=served_env, check=True, capture_output=True)
        started = time.perf_counter() - start
        try:
            predict = [*graftzoo, "predict", str(head), str(image)]
            first = timed_run(predict, served_env)
            warm = [timed_run(predict, served_env) for _ in range(max(args.runs, 5))]
            same = subprocess.run(predict, env=served_env, capture_output=True, text=True).stdout
            alone = subprocess.run([*predict, "--no-server"], env=served_env, capture_output=True, text=True).stdout
        finally:
            subprocess.run([*graftzoo, "serve", "--stop"], env=served_env, capture_output=True)
        print(f"\n| with `graftzoo serve` running | wall (s) | CPU (s) |\n|---|---|---|")
        print(f"| `graftzoo serve --detach` (once; returns when the server answers) | {started:.2f} | - |")
        print(f"| first `graftzoo predict HEAD digit.png` (the server loads the head) | {first[0]:.2f} | {first[1]:.2f} |")
        print(f"| `graftzoo predict HEAD digit.png`, median of {len(warm)} | **{statistics.median(w for w, _ in warm):.2f}** | "
              f"{statistics.median(c for _, c in warm):.2f} |")
        print(f"\nsame output as `--no-server`: {same == alone} ({same.strip()!r})")
        print(f"\nload average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
