"""Tiny models and data for the learner tests (fixtures only; test files import nothing from here)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from graftzoo.learner import Learner
from graftzoo.metrics import accuracy


@pytest.fixture(autouse=True)
def _small_torch() -> Iterator[None]:
    """One thread (tiny tensors only get slower with more) and a fixed seed."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _plots_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every plot's default folder (`GRAFTZOO_PLOTS`) in the test's own tmp_path, not the working directory."""
    folder = tmp_path / "plots"
    monkeypatch.setenv("GRAFTZOO_PLOTS", str(folder))
    return folder


class FakeTask:
    """Classification task: cross-entropy, accuracy, softmax, argmax."""

    def loss_func(self) -> nn.Module:
        return nn.CrossEntropyLoss()

    def metrics(self) -> list[Callable[..., torch.Tensor]]:
        return [accuracy]

    def activation(self, out: torch.Tensor) -> torch.Tensor:
        return out.softmax(dim=-1)

    def decode(self, probs: torch.Tensor) -> torch.Tensor:
        return probs.argmax(dim=-1)


class FakeGrafted(nn.Module):
    """Body (Linear, BatchNorm, ReLU) + head (Linear) with param_groups() and a task,
    shaped like graftzoo's GraftedModel."""

    def __init__(self, n_in: int = 4, hidden: int = 16, n_out: int = 2) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU())
        self.head = nn.Linear(hidden, n_out)
        self.task = FakeTask()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))

    def param_groups(self) -> list[list[nn.Parameter]]:
        return [list(self.body.parameters()), list(self.head.parameters())]


class Dls:
    """Minimal data loaders: `.train`, `.valid`, optional `vocab`."""

    def __init__(self, train: DataLoader, valid: DataLoader, vocab: list[str] | None = None) -> None:
        self.train, self.valid = train, valid
        if vocab is not None:
            self.vocab = vocab


def toy_data(n: int = 256, n_in: int = 4, bs: int = 32, shuffle: bool = False, seed: int = 0) -> Dls:
    """A learnable two-class problem: y = (x0 + x1 > 0)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, n_in, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long()
    cut = n * 3 // 4
    train = DataLoader(TensorDataset(x[:cut], y[:cut]), batch_size=bs, shuffle=shuffle, generator=g)
    valid = DataLoader(TensorDataset(x[cut:], y[cut:]), batch_size=bs)
    return Dls(train, valid, vocab=["neg", "pos"])


@pytest.fixture
def make_learner(tmp_path: Path) -> Callable[..., Learner]:
    """Build a quiet CPU Learner on FakeGrafted + toy data; kwargs go to Learner."""

    def _make(dls: Any = None, model: nn.Module | None = None, **kwargs: Any) -> Learner:
        kwargs.setdefault("quiet", True)
        kwargs.setdefault("path", tmp_path)
        kwargs.setdefault("device", "cpu")
        return Learner(dls if dls is not None else toy_data(), model if model is not None else FakeGrafted(), **kwargs)

    return _make


@pytest.fixture
def fake_grafted() -> type[FakeGrafted]:
    return FakeGrafted


@pytest.fixture
def data() -> Callable[..., Dls]:
    return toy_data
