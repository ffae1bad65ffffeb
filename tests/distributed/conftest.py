"""Launching torchrun on loopback for the distributed tests (fixtures only)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def loopback_env(**extra: str) -> dict[str, str]:
    """One thread per process, gloo on the loopback interface, short collective timeouts."""
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", GLOO_SOCKET_IFNAME="lo", GRAFTZOO_DIST_TIMEOUT="60", MASTER_ADDR="127.0.0.1")
    for var in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_PORT"):
        env.pop(var, None)
    env.update(extra)
    return env


def torchrun_args(nproc: int = 2) -> list[str]:
    """`python -m torch.distributed.run` for one machine, rendezvous bound to 127.0.0.1."""
    return [
        sys.executable, "-m", "torch.distributed.run", "--nnodes=1", f"--nproc_per_node={nproc}",
        "--rdzv-backend=c10d", "--rdzv-endpoint=127.0.0.1:0", "--monitor-interval=0.2",
    ]


Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def torchrun() -> list[str]:
    """The torchrun command line for two processes on this machine."""
    return torchrun_args(2)


@pytest.fixture(name="loopback_env")
def loopback_env_fixture() -> dict[str, str]:
    """The environment for processes the tests start (see `loopback_env`)."""
    return loopback_env()


@pytest.fixture(scope="session")
def checks_script() -> str:
    """The script the DDP checks run under torchrun."""
    return str(HERE / "ddp_checks.py")


@pytest.fixture(scope="session")
def run_cmd() -> Run:
    """Run a command with a hard timeout; the output is returned, never lost."""

    def _run(cmd: Sequence[str], timeout: float = 150, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(cmd), capture_output=True, text=True, timeout=timeout, env=loopback_env(**env), cwd=cwd
        )

    return _run
