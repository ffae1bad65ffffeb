"""fastai's one-cycle: cosine warm-up to lr_max at pct_start, cosine down; momentum inverse."""

from __future__ import annotations

import math

import pytest

from graftzoo.learner import combine_scheds, combined_cos, one_cycle_scheds, sched_cos, sched_exp, sched_lin


def test_basic_schedules():
    assert sched_lin(1, 3, 0.5) == 2
    assert sched_cos(1, 3, 0) == pytest.approx(1) and sched_cos(1, 3, 1) == pytest.approx(3)
    assert sched_cos(1, 3, 0.5) == pytest.approx(2)
    assert sched_exp(1e-7, 10, 0.5) == pytest.approx(1e-7 * 1e4)


def test_combine_scheds_switches_at_the_boundary():
    f = combine_scheds([0.3, 0.7], [lambda p: p, lambda p: 10 + p])
    assert f(0) == 0 and f(0.15) == pytest.approx(0.5)
    assert f(0.3) == pytest.approx(10) and f(1.0) == pytest.approx(11)


def test_one_cycle_function_end_points():
    lr = one_cycle_scheds([1e-4, 1e-2], div=25, div_final=1e5, pct_start=0.25)
    assert lr["lr"](0) == pytest.approx([1e-4 / 25, 1e-2 / 25])
    assert lr["lr"](0.25) == pytest.approx([1e-4, 1e-2])
    assert lr["lr"](1.0) == pytest.approx([1e-9, 1e-7])
    assert lr["mom"](0) == pytest.approx(0.95) and lr["mom"](0.25) == pytest.approx(0.85)
    assert lr["mom"](1.0) == pytest.approx(0.95)
    mid = combined_cos(0.25, 1.0, 2.0, 0.0)
    assert mid(0.125) == pytest.approx(1.5)


def test_fit_one_cycle_shape(make_learner, data):
    learn = make_learner(dls=data(n=320, bs=8))  # 30 train batches per epoch
    lr_max, div, pct = 1e-2, 25.0, 0.25
    learn.fit_one_cycle(2, lr_max, div=div, pct_start=pct)
    lrs, moms = learn.recorder.lrs, learn.recorder.moms
    n = len(lrs)
    assert n == 60
    assert lrs[0] == pytest.approx(lr_max / div)
    peak = max(range(n), key=lrs.__getitem__)
    assert peak == round(pct * n)
    assert lrs[peak] == pytest.approx(lr_max)
    assert all(a <= b for a, b in zip(lrs[:peak], lrs[1 : peak + 1]))  # rises
    assert all(a >= b for a, b in zip(lrs[peak:], lrs[peak + 1 :]))  # then falls
    assert lrs[-1] == min(lrs) and lrs[-1] < lr_max / 500
    # momentum (Adam's beta1) goes the other way
    assert moms[0] == pytest.approx(0.95) and moms[peak] == pytest.approx(0.85)
    assert min(range(n), key=moms.__getitem__) == peak
    assert moms[-1] > 0.949
    assert learn.opt.param_groups[-1]["betas"][1] == 0.999  # beta2 untouched


def test_sgd_momentum_is_scheduled(make_learner):
    import torch

    learn = make_learner(opt_func=lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=0.9))
    learn.fit_one_cycle(1, 0.1, moms=(0.9, 0.8, 0.9))
    assert learn.recorder.moms[0] == pytest.approx(0.9)
    assert min(learn.recorder.moms) == pytest.approx(0.8, abs=0.01)
    assert not any(math.isnan(v) for v in learn.recorder.raw_losses)
