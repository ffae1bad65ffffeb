"""Whole-process time of `graftzoo list` / `graftzoo info` against listing timm and torchvision directly.

Run: .venv/bin/python bench/bench_cli.py  (prints a markdown table; results go in docs/benchmarks.md)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = 5
BIN = Path(sys.executable).parent


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def median_ms(cmd: list[str], env: dict[str, str]) -> float:
    return statistics.median(timed(cmd, env) for _ in range(RUNS)) * 1000


def main() -> None:
    env = dict(os.environ)
    graftzoo = [str(BIN / "graftzoo")]
    count = subprocess.run(graftzoo + ["list"], capture_output=True, text=True, check=True, env=env).stdout.count("\n") - 1
    cold_home = Path(env.get("TMPDIR", "/tmp")) / f"graftzoo-bench-{os.getpid()}"
    cold_env = {**env, "GRAFTZOO_HOME": str(cold_home)}
    cold = timed(graftzoo + ["list"], cold_env) * 1000
    for warm_up in (["list"], ["info", "resnet34"], ["info", "timm/convnext_tiny"]):
        timed(graftzoo + warm_up, env)
    rows = [
        ("`graftzoo list` (cold: fills the listing cache)", cold),
        (f"`graftzoo list` (warm, {count} archs)", median_ms(graftzoo + ["list"], env)),
        ("`graftzoo list --json` (warm)", median_ms(graftzoo + ["list", "--json"], env)),
        ("`graftzoo info resnet34` (warm)", median_ms(graftzoo + ["info", "resnet34"], env)),
        ("`graftzoo info timm/convnext_tiny` (warm)", median_ms(graftzoo + ["info", "timm/convnext_tiny"], env)),
        ("`python -c 'import graftzoo'`", median_ms([sys.executable, "-c", "import graftzoo"], env)),
        ("`python -c 'import timm; timm.list_models()'`", median_ms([sys.executable, "-c", "import timm; timm.list_models()"], env)),
        (
            "`python -c 'import torchvision; torchvision.models.list_models()'`",
            median_ms([sys.executable, "-c", "import torchvision; torchvision.models.list_models()"], env),
        ),
    ]
    print(f"| command | median of {RUNS} runs (ms) |\n|---|---|")
    for name, ms in rows:
        print(f"| {name} | {ms:.0f} |")


if __name__ == "__main__":
    main()
