"""The tabular benchmark's step timings: the loaders alone, and the model step (forward, backward,
optimizer) alone or in parts, on pre-built batches; CPU milliseconds."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pandas as pd
import torch
from torch import nn

from graftzoo_tabular import TabularDataLoaders
from graftzoo_tabular.learner import adamw
from graftzoo_tabular.model import tabular_model
from tabular_anchors import CAT_NAMES, CONT_NAMES, Y

def torch_adamw(params: Any, **kwargs: Any) -> torch.optim.Optimizer:
    """The optimizer a hand-written loop would use: torch's AdamW with its fused kernel."""
    return torch.optim.AdamW(params, fused=True, **kwargs)


def loader_ms(batches: Any, n: int) -> float:
    """CPU milliseconds per batch over the first `n` training batches (both loaders run in this process)."""
    it = iter(batches)
    next(it)  # the first batch pays for setting up workers, permutations, ...
    c0 = time.process_time()
    for _ in range(n):
        next(it)
    return (time.process_time() - c0) / n * 1e3


def model_step_ms(df: pd.DataFrame, n_train: int, bs: int, fastai_model: bool, n_steps: int) -> float:
    """CPU milliseconds per training step (forward, backward, fused AdamW) on pre-built batches."""
    dls = TabularDataLoaders.from_df(df, Y, CAT_NAMES, CONT_NAMES, valid_idx=range(n_train, len(df)), bs=bs, seed=0, device="cpu")
    spec = dls.preprocessor.input_spec()
    model: nn.Module
    if fastai_model:
        from fastai.tabular.model import TabularModel
        from graftzoo_tabular import embedding_sizes

        model = TabularModel(embedding_sizes(spec), spec.params["n_cont"], dls.c, [200, 100])
    else:
        model = tabular_model(spec, dls.c, body_kwargs={"layers": [200, 100]})
    epoch = list(dls.train)
    batches = [epoch[i % len(epoch)] for i in range(n_steps + 5)]
    opt, loss_func = adamw(model.parameters(), lr=1e-3), nn.CrossEntropyLoss()
    model.train()

    def step(x_cat: torch.Tensor, x_cont: torch.Tensor, y: torch.Tensor) -> None:
        loss_func(model(x_cat, x_cont), y).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    for b in batches[:5]:
        step(*b)
    c0 = time.process_time()
    for b in batches[5:]:
        step(*b)
    return (time.process_time() - c0) / (len(batches) - 5) * 1e3


def step_parts_ms(df: pd.DataFrame, n_train: int, bs: int, n_steps: int, compile_model: bool = False) -> dict[str, float]:
    """graftzoo's training step in parts, CPU ms: forward with the loss, forward + backward, the
    optimizer step alone (LeanAdamW and torch's AdamW(fused=True), on gradients left in place) and
    the whole step; each the fastest of 3 interleaved runs over the same batches (the least disturbed
    by other jobs). With `compile_model`, the step of `model.compile()` and the wall seconds of its first step."""
    dls = TabularDataLoaders.from_df(df, Y, CAT_NAMES, CONT_NAMES, valid_idx=range(n_train, len(df)), bs=bs, seed=0, device="cpu")
    model = tabular_model(dls.preprocessor.input_spec(), dls.c, body_kwargs={"layers": [200, 100]})
    epoch = list(dls.train)
    batches = [epoch[i % len(epoch)] for i in range(n_steps)]
    loss_func = nn.CrossEntropyLoss()
    model.train()
    groups = [{"params": list(model.body.parameters())}, {"params": list(model.head.parameters())}]  # as the Learner's
    lean, plain = adamw(groups, lr=1e-4), torch_adamw(groups, lr=1e-4)

    def forward(x_cat: torch.Tensor, x_cont: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return loss_func(model(x_cat, x_cont), y)

    def forward_backward(x_cat: torch.Tensor, x_cont: torch.Tensor, y: torch.Tensor) -> None:
        forward(x_cat, x_cont, y).backward()
        model.zero_grad(set_to_none=True)

    def whole_step(x_cat: torch.Tensor, x_cont: torch.Tensor, y: torch.Tensor) -> None:
        forward(x_cat, x_cont, y).backward()
        lean.step()
        lean.zero_grad(set_to_none=True)

    def opt_step(opt: torch.optim.Optimizer) -> Callable[..., None]:
        def step(*_: torch.Tensor) -> None:
            opt.step()
        return step

    def cpu_ms(f: Callable[..., Any]) -> float:
        for b in batches[:5]:
            f(*b)
        c0 = time.process_time()
        for b in batches:
            f(*b)
        return (time.process_time() - c0) / len(batches) * 1e3

    runs: dict[str, Callable[..., Any]] = {
        "forward + loss": forward, "forward + backward": forward_backward, "whole step, LeanAdamW": whole_step,
    }
    parts: dict[str, list[float]] = {}
    for r in range(3):
        for name, f in runs.items():
            parts.setdefault(name, []).append(cpu_ms(f))
        forward(*batches[0]).backward()  # gradients for the optimizer-only timings
        for name, opt in (("optimizer step, LeanAdamW", lean), ("optimizer step, torch AdamW(fused=True)", plain)):
            parts.setdefault(name, []).append(cpu_ms(opt_step(opt)))
        model.zero_grad(set_to_none=True)
    out = {k: min(v) for k, v in parts.items()}
    out["backward"] = out["forward + backward"] - out["forward + loss"]
    if compile_model:
        model.compile(dynamic=False)
        t0 = time.perf_counter()
        whole_step(*batches[0])
        out["compile (wall s, first step)"] = time.perf_counter() - t0
        out["whole step, LeanAdamW, model.compile()"] = cpu_ms(whole_step)
    return out
