"""fit_flat_cos and fit_sgdr: the lr at given iterations against fastai's formulas computed by hand."""

from __future__ import annotations

import math

import pytest

from graftzoo.errors import ConfigError


def _cos(start: float, end: float, pos: float) -> float:
    return start + (1 + math.cos(math.pi * (1 - pos))) * (end - start) / 2


def test_fit_flat_cos_lr_by_hand(make_learner):
    learn = make_learner()  # 192 training samples / bs 32 = 6 batches per epoch
    learn.fit_flat_cos(2, lr=1e-2)  # 12 iterations, flat for 9 (0.75), cosine over the last 3
    lrs = learn.recorder.lrs
    assert len(lrs) == 12
    for i in range(9):
        assert lrs[i] == pytest.approx(1e-2, rel=1e-12)
    for i in (9, 10, 11):
        assert lrs[i] == pytest.approx(_cos(1e-2, 1e-2 / 1e5, (i / 12 - 0.75) / 0.25), rel=1e-9)
    assert lrs[10] == pytest.approx(0.75 * 1e-2 + 0.25 * 1e-7, rel=1e-9)  # a third into the cosine: (1 + cos(2pi/3)) / 2 = 1/4


def test_fit_flat_cos_spreads_a_slice_and_honours_pct_start(make_learner):
    learn = make_learner()
    learn.fit_flat_cos(1, lr=slice(1e-4, 1e-2), pct_start=0.5)  # 6 iterations: 3 flat, 3 annealed
    assert learn.recorder.lrs[0] == learn.recorder.lrs[2] == pytest.approx(1e-2)
    assert learn.recorder.lrs[4] == pytest.approx(_cos(1e-2, 1e-7, (4 / 6 - 0.5) / 0.5))
    assert learn.opt.param_groups[0]["lr"] == pytest.approx(_cos(1e-4, 1e-9, (5 / 6 - 0.5) / 0.5))


def test_fit_sgdr_cycles_by_hand(make_learner):
    learn = make_learner()
    learn.fit_sgdr(2, 1, lr_max=1e-2)  # cycle_mult 2: cycles of 1 and 2 epochs, 3 epochs = 18 iterations
    lrs = learn.recorder.lrs
    assert learn.recorder.values and len(learn.recorder.values) == 3 and len(lrs) == 18
    for i, lr in enumerate(lrs):
        pos = i / 18
        expected = _cos(1e-2, 0.0, pos * 3) if pos < 1 / 3 else _cos(1e-2, 0.0, (pos - 1 / 3) / (2 / 3))
        assert lr == pytest.approx(expected, rel=1e-9, abs=1e-15), i
    assert lrs[6] == pytest.approx(1e-2)  # the restart: back to lr_max at the second cycle's first batch
    assert lrs[12] == pytest.approx(1e-2 / 2)  # half-way through the 2-epoch cycle: cos = 0


def test_fit_sgdr_cycle_mult_one_and_bad_counts(make_learner):
    learn = make_learner()
    learn.fit_sgdr(2, 1, lr_max=1e-2, cycle_mult=1)
    assert len(learn.recorder.values) == 2 and learn.recorder.lrs[6] == pytest.approx(1e-2)
    with pytest.raises(ConfigError, match="cycle_len"):
        learn.fit_sgdr(2, 0)
