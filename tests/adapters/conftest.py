"""A tiny timm EfficientNet with random-but-fixed source weights, and loaders of random images."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from safetensors.torch import save_file
from torch.utils.data import DataLoader, TensorDataset

import graftzoo
from graftzoo.imports import import_attr

ARCH = "timm/test_efficientnet"  # 0.36 M parameters; timm's family default targets its pointwise convs
SIZE = 32


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread: None) -> None:
    """Every test here on one torch thread, seed 0 (graftzoo.testing's fixture)."""


@pytest.fixture(scope="session")
def source_weights(tmp_path_factory: pytest.TempPathFactory) -> str:
    """`file://` weights of the whole network, random but fixed (seed 0)."""
    spec = graftzoo.get_arch(ARCH)
    torch.manual_seed(0)
    net = import_attr(spec.factory)(**spec.factory_kwargs)
    path = tmp_path_factory.mktemp("weights") / "test_efficientnet.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    return path.resolve().as_uri()


@pytest.fixture
def make_model(source_weights: str) -> Callable[..., Any]:
    def make(**kwargs: Any) -> Any:
        torch.manual_seed(1)
        return graftzoo.graft(ARCH, "classify", n_out=3, weights=source_weights, **kwargs)
    return make


@pytest.fixture
def dls() -> SimpleNamespace:
    """24 random 32x32 images in 3 classes; the same images for training and validation."""
    g = torch.Generator().manual_seed(3)
    x, y = torch.rand(24, 3, SIZE, SIZE, generator=g), torch.randint(0, 3, (24,), generator=g)
    data = TensorDataset(x, y)
    return SimpleNamespace(train=DataLoader(data, batch_size=8, shuffle=False), valid=DataLoader(data, batch_size=12),
                           vocab=["a", "b", "c"])


@pytest.fixture
def images() -> torch.Tensor:
    return torch.rand(4, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(9))
