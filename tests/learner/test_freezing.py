"""Freezing: frozen groups do not move (not even by weight decay) while their BatchNorm does."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from graftzoo.errors import SplitError


def _snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def _changed(before: dict[str, torch.Tensor], model: nn.Module) -> dict[str, bool]:
    return {k: not torch.equal(before[k], v.detach()) for k, v in model.named_parameters()}


def test_freeze_keeps_body_but_trains_bn_and_head(make_learner):
    learn = make_learner(lr=1e-2, wd=0.1)  # weight decay would move frozen weights if they were stepped
    learn.freeze()
    body = learn.model.body
    assert not body[0].weight.requires_grad and not body[0].bias.requires_grad
    assert body[1].weight.requires_grad and body[1].bias.requires_grad  # train_bn
    assert learn.model.head.weight.requires_grad
    before = _snapshot(learn.model)
    stats_before = body[1].running_mean.clone()
    learn.fit(1)
    changed = _changed(before, learn.model)
    assert not changed["body.0.weight"] and not changed["body.0.bias"]
    assert changed["body.1.weight"] and changed["body.1.bias"]
    assert changed["head.weight"] and changed["head.bias"]
    assert not torch.equal(stats_before, body[1].running_mean)


def test_unfreeze_trains_everything(make_learner):
    learn = make_learner(lr=1e-2)
    learn.freeze()
    learn.fit(1)
    learn.unfreeze()
    assert all(p.requires_grad for p in learn.model.parameters())
    before = _snapshot(learn.model)
    learn.fit(1)
    assert all(_changed(before, learn.model).values())


def test_train_bn_false_freezes_bn_too(make_learner):
    learn = make_learner(lr=1e-2, train_bn=False)
    learn.freeze()
    before = _snapshot(learn.model)
    learn.fit(1)
    changed = _changed(before, learn.model)
    assert not any(v for k, v in changed.items() if k.startswith("body."))
    assert changed["head.weight"]


def test_freeze_to_counts_groups(make_learner, fake_grafted):
    class ThreeGroups(fake_grafted):
        def param_groups(self):
            return [list(self.body[0].parameters()), list(self.body[1].parameters()), list(self.head.parameters())]

    learn = make_learner(model=ThreeGroups(), train_bn=False)
    learn.freeze_to(1)
    assert [p.requires_grad for p in learn.model.parameters()] == [False, False, True, True, True, True]
    learn.freeze_to(-1)
    assert [p.requires_grad for p in learn.model.parameters()] == [False, False, False, False, True, True]
    learn.unfreeze()
    assert all(p.requires_grad for p in learn.model.parameters())


def test_freeze_clears_optimizer_state(make_learner):
    learn = make_learner()
    learn.fit(1)
    assert learn.opt.state
    learn.freeze()
    assert not learn.opt.state


def test_one_group_model_warns_on_freeze(make_learner):
    model = nn.Sequential(nn.Linear(4, 2))
    learn = make_learner(model=model, loss_func=nn.CrossEntropyLoss())
    with pytest.warns(UserWarning, match="one parameter group"):
        learn.freeze()
    assert all(p.requires_grad for p in model.parameters())


@pytest.mark.parametrize(
    "groups, match",
    [
        (lambda m: [list(m.body.parameters())], "at least two"),
        (lambda m: [list(m.body.parameters()), []], "empty"),
        (lambda m: [list(m.body.parameters()), list(m.parameters())], "exactly one group"),
        (lambda m: [list(m.body[0].parameters()), list(m.head.parameters())], "in no group"),
        (lambda m: [list(m.body.parameters()), [nn.Parameter(torch.zeros(1))]], "not a parameter"),
    ],
)
def test_bad_splits_raise_split_error(make_learner, groups, match):
    with pytest.raises(SplitError, match=match):
        make_learner(splitter=groups)


def test_splitter_overrides_param_groups(make_learner):
    learn = make_learner(splitter=lambda m: [list(m.body[0].parameters()), list(m.body[1].parameters()) + list(m.head.parameters())])
    assert [len(g) for g in learn.param_lists] == [2, 4]
    learn.create_opt()
    assert len(learn.opt.param_groups) == 2


@pytest.mark.parametrize("with_bn_freeze", [True, False])
def test_bn_freeze_keeps_frozen_running_stats(make_learner, with_bn_freeze):
    from graftzoo.learner import BnFreeze

    learn = make_learner(lr=1e-2, train_bn=False, cbs=[BnFreeze()] if with_bn_freeze else None)
    learn.freeze()
    bn = learn.model.body[1]
    before = bn.running_mean.clone()
    learn.fit(1)
    assert torch.equal(bn.running_mean, before) == with_bn_freeze
