"""Progress without a terminal: periodic lines reach a pipe (lr_find and fit), and a script
neither imports IPython nor tries to show plots inline."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from graftzoo.errors import ConfigError
from graftzoo.learner.progress import progress_interval

SCRIPT = """
import os, sys
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from graftzoo.learner import Learner

torch.manual_seed(0)
x = torch.randn(64, 4)
y = (x[:, 0] > 0).long()

class Data:
    train = DataLoader(TensorDataset(x[:48], y[:48]), batch_size=8)
    valid = DataLoader(TensorDataset(x[48:], y[48:]), batch_size=8)

learn = Learner(Data(), nn.Sequential(nn.Linear(4, 2)), loss_func=nn.CrossEntropyLoss(), device="cpu")
learn.lr_find(num_it=10)
print("--- fit", flush=True)
learn.fit(1)
os.environ["GRAFTZOO_PROGRESS_INTERVAL"] = "3600"
print("--- slow interval", flush=True)
learn.fit(1)
from graftzoo.learner.inline_display import notebook_shell
print("shell", notebook_shell(), "IPython" in sys.modules, flush=True)
"""


@pytest.fixture(scope="module")
def piped_run(tmp_path_factory) -> str:
    """stdout of a tiny lr_find and two fits, run with stdout and stderr piped (no terminal)."""
    plots = tmp_path_factory.mktemp("plots")
    env = {**os.environ, "GRAFTZOO_PROGRESS_INTERVAL": "0", "GRAFTZOO_PLOTS": str(plots), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (plots / "lr_find.png").is_file()
    return done.stdout


def test_progress_lines_reach_a_pipe(piped_run):
    finder, rest = piped_run.split("--- fit\n")
    fit, slow = rest.split("--- slow interval\n")
    lines = finder.splitlines()
    assert [re.sub(r",.*", "", line) for line in lines] == [f"lr_find: batch {i}/10" for i in range(1, 11)]
    assert all(re.fullmatch(r"lr_find: batch \d+/10, \d\d:\d\d elapsed, loss \d+\.\d{4}", line) for line in lines)
    fit_lines = [line for line in fit.splitlines() if ": batch " in line]
    assert [line.split(",")[0] for line in fit_lines] == (
        [f"epoch 1/1 train: batch {i}/6" for i in range(1, 7)] + ["valid: batch 1/2", "valid: batch 2/2"]
    )
    assert "loss" not in fit_lines[-1]  # validation lines carry no training loss
    assert fit.splitlines()[0].split() == ["epoch", "train_loss", "valid_loss", "time"]  # the table still prints
    assert not any(": batch " in line for line in slow.splitlines())  # an hour's interval: no line yet


def test_a_script_neither_imports_ipython_nor_shows_inline(piped_run):
    assert piped_run.splitlines()[-1] == "shell None False"


def test_progress_interval_reads_the_env_var(monkeypatch):
    monkeypatch.setenv("GRAFTZOO_PROGRESS_INTERVAL", "2.5")
    assert progress_interval() == 2.5
    monkeypatch.setenv("GRAFTZOO_PROGRESS_INTERVAL", "")
    assert progress_interval() == 10.0
    for bad in ("soon", "-1", "nan"):
        monkeypatch.setenv("GRAFTZOO_PROGRESS_INTERVAL", bad)
        with pytest.raises(ConfigError, match="GRAFTZOO_PROGRESS_INTERVAL"):
            progress_interval()
