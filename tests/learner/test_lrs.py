"""Discriminative learning rates: float, slice(hi), slice(lo, hi), one per group."""

from __future__ import annotations

import pytest

from graftzoo.errors import ConfigError
from graftzoo.learner import Callback, even_mults, spread_lr


def test_even_mults():
    assert even_mults(1e-4, 1e-2, 3) == pytest.approx([1e-4, 1e-3, 1e-2])
    assert even_mults(1e-4, 1e-2, 1) == [1e-2]


def test_spread_lr_rules():
    assert spread_lr(1e-3, 3) == [1e-3] * 3
    assert spread_lr(slice(1e-2), 3) == pytest.approx([1e-3, 1e-3, 1e-2])
    assert spread_lr(slice(1e-5, 1e-3), 3) == pytest.approx([1e-5, 1e-4, 1e-3])
    assert spread_lr([1.0, 2.0], 2) == [1.0, 2.0]
    with pytest.raises(ConfigError):
        spread_lr([1.0], 2)
    with pytest.raises(ConfigError):
        spread_lr(slice(None), 2)


class GroupLrs(Callback):
    def __init__(self):
        self.seen = []

    def before_step(self):
        self.seen.append([g["lr"] for g in self.learn.opt.param_groups])


def test_fit_sets_lr_per_group(make_learner):
    learn = make_learner()
    cb = GroupLrs()
    learn.fit(1, lr=slice(1e-5, 1e-3), cbs=[cb])
    assert all(s == pytest.approx([1e-5, 1e-3]) for s in cb.seen)
    assert [g["lr"] for g in learn.opt.param_groups] == pytest.approx([1e-5, 1e-3])
    learn.fit(1, lr=slice(1e-2), cbs=[cb])
    assert cb.seen[-1] == pytest.approx([1e-3, 1e-2])
    assert cb not in learn.cbs  # fit(cbs=...) only adds them for that fit


def test_one_cycle_scales_every_group_by_the_same_factor(make_learner):
    learn = make_learner()
    cb = GroupLrs()
    learn.fit_one_cycle(2, slice(1e-4, 1e-2), cbs=[cb])
    assert len(cb.seen) == 12
    for lo, hi in cb.seen:
        assert hi / lo == pytest.approx(100)
    assert max(hi for _, hi in cb.seen) <= 1e-2 + 1e-12


def test_wd_is_set_on_every_group(make_learner):
    learn = make_learner(wd=0.3)
    learn.fit(1)
    assert [g["weight_decay"] for g in learn.opt.param_groups] == [0.3, 0.3]
    learn.fit(1, wd=0.05)
    assert [g["weight_decay"] for g in learn.opt.param_groups] == [0.05, 0.05]
