"""Training with adapters: groups, freezing and discriminative learning rates keep their meaning."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from torch import nn

from graftzoo.adapters import LoRA
from graftzoo.learner import Learner


def bn_ids(model: Any) -> set[int]:
    return {id(p) for m in model.body.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters()}


def kinds(model: Any) -> dict[str, set[int]]:
    """Parameter ids of the body's adapters, its BatchNorm, its other (base) weights, and the head."""
    named = dict(model.body.named_parameters())
    lora = {id(p) for n, p in named.items() if ".lora_" in n}
    bn = bn_ids(model)
    return {"lora": lora, "bn": bn, "base": {id(p) for p in named.values()} - lora - bn,
            "head": {id(p) for p in model.head.parameters()}}


def trainable(model: Any) -> set[int]:
    return {id(p) for p in model.parameters() if p.requires_grad}


def test_groups_cover_each_trainable_parameter_once_and_adapters_sit_with_their_layer(
    make_model: Callable[..., Any], dls: SimpleNamespace
) -> None:
    learn = Learner(dls, make_model(), quiet=True, lr=slice(1e-4, 1e-2))
    n_groups = len(learn.param_lists)
    learn.add_adapters(LoRA(r=2))
    groups = learn.param_lists
    assert len(groups) == n_groups
    ids = [id(p) for g in groups for p in g]
    assert len(ids) == len(set(ids)) and set(ids) == {id(p) for p in learn.model.parameters()}
    opt = learn.create_opt()
    lr_of = {id(p): g["lr"] for g in opt.param_groups for p in g["params"]}
    assert len(set(lr_of.values())) == n_groups  # discriminative: one lr per group
    layers = [m for m in learn.model.body.net.modules() if hasattr(m, "lora_A")]
    assert layers
    for module in layers:  # a peft LoRA layer: its adapters train at its base weight's rate
        base = lr_of[id(module.get_base_layer().weight)]
        assert {lr_of[id(p)] for p in [*module.lora_A.parameters(), *module.lora_B.parameters()]} == {base}


@pytest.mark.parametrize("batch_norm", ["train", "affine", "frozen"])
def test_freeze_and_unfreeze_keep_their_meaning_and_base_weights_stay_locked(
    make_model: Callable[..., Any], dls: SimpleNamespace, batch_norm: str
) -> None:
    learn = Learner(dls, make_model(adapters=LoRA(r=2, batch_norm=batch_norm)), quiet=True)
    k = kinds(learn.model)
    bn = set() if batch_norm == "frozen" else k["bn"]  # frozen: BatchNorm is locked like the base weights
    learn.freeze()
    assert trainable(learn.model) == bn | k["head"]  # frozen body: its adapters too; BatchNorm under train_bn
    learn.unfreeze()
    assert trainable(learn.model) == k["lora"] | bn | k["head"]  # never the base weights
    learn.train_bn = False
    learn.freeze()
    assert trainable(learn.model) == k["head"]


@pytest.mark.parametrize(("batch_norm", "bn_moves"), [
    ("frozen", set()), ("affine", {"weight", "bias"}), ("train", {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}),
])
def test_fine_tune_with_adapters_trains_only_adapters_the_chosen_bn_tensors_and_head(
    make_model: Callable[..., Any], dls: SimpleNamespace, batch_norm: str, bn_moves: set[str]
) -> None:
    model = make_model()
    before = {n: t.detach().clone() for n, t in model.state_dict().items()}
    learn = Learner(dls, model, quiet=True)
    learn.fine_tune(1, base_lr=1e-2, freeze_epochs=1, adapters=LoRA(r=2, batch_norm=batch_norm))
    assert learn.model.adapters is not None and learn.model.adapters["batch_norm"] == batch_norm
    after = learn.model.state_dict()
    moved = {n for n, t in after.items() if n.replace(".base_layer", "") in before
             and not torch.equal(t, before[n.replace(".base_layer", "")])}
    assert any(n.startswith("head.") for n in moved)
    assert all(".lora_" not in n for n in moved)  # (adapters are new: compared below)
    body_moved = {n for n in moved if n.startswith("body.")}
    bn_names = {f"body.{n}.{k}" for n, m in learn.model.body.named_modules() if isinstance(m, nn.BatchNorm2d) for k in bn_moves}
    assert body_moved == bn_names  # among the body's own tensors exactly the chosen BatchNorm ones moved, every one of them
    assert any(not torch.equal(p, torch.zeros_like(p)) for n, p in after.items() if ".lora_B." in n)  # adapters trained
    learn.model.train()
    bns = [m for m in learn.model.body.modules() if isinstance(m, nn.BatchNorm2d)]
    assert all(m.training == (batch_norm == "train") for m in bns)  # frozen statistics: eval mode while training
    assert all(m.training for m in learn.model.merge().train().body.modules())  # a merged model trains as any other


def test_auto_batch_norm_keeps_estimated_statistics_and_trains_never_estimated_ones(make_model: Callable[..., Any]) -> None:
    fresh = make_model(adapters=LoRA(r=2))  # random source weights: every running mean 0, variance 1
    assert fresh.adapters["batch_norm"] == "train" and not fresh.body.keep_bn_statistics
    model = make_model()
    with torch.no_grad():
        next(m for m in model.body.modules() if isinstance(m, nn.BatchNorm2d)).running_var.fill_(0.5)  # estimated once
    model.add_adapters(LoRA(r=2))
    assert model.adapters["batch_norm"] == "affine" and model.body.keep_bn_statistics
    assert all(not m.training for m in model.train().body.modules() if isinstance(m, nn.BatchNorm2d))
    assert make_model(adapters=LoRA(r=2, batch_norm="frozen")).adapters["batch_norm"] == "frozen"  # an explicit mode stays


@pytest.mark.parametrize(("adapters", "lr_mult", "spread"), [(LoRA(r=2), None, 1.0), (None, None, 100.0), (LoRA(r=2), 10.0, 10.0)])
def test_fine_tune_gives_adapters_one_rate_everywhere_unless_told(
    make_model: Callable[..., Any], dls: SimpleNamespace, adapters: LoRA | None, lr_mult: float | None, spread: float
) -> None:
    """With adapters `lr_mult` defaults to 1 (every group at base_lr/2); without, fastai's 100; an explicit one wins."""
    learn = Learner(dls, make_model(), quiet=True)
    learn.fine_tune(1, base_lr=1e-2, freeze_epochs=0, lr_mult=lr_mult, adapters=adapters)
    lrs = [g["lr"] for g in learn.opt.param_groups]
    assert len(lrs) > 1 and max(lrs) / min(lrs) == pytest.approx(spread)
