"""Run every benchmark script in bench/ one after the other (`make bench`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPTS = ["bench_cli.py", "bench_learner.py", "bench_artifact.py", "bench_predict.py"]


def main() -> int:
    here = Path(__file__).parent
    for script in SCRIPTS:
        print(f"\n## {script}\n", flush=True)
        result = subprocess.run([sys.executable, str(here / script)])
        if result.returncode != 0:
            return result.returncode
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
