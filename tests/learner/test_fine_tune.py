"""fine_tune: a frozen 1cycle with slice(base_lr), then an unfrozen one with slice(lo, hi)."""

from __future__ import annotations

import pytest

from graftzoo.learner import Callback


class Phases(Callback):
    def __init__(self):
        self.phases = []

    def before_fit(self):
        m = self.learn.model
        self.phases.append({"body_trainable": m.body[0].weight.requires_grad, "bn_trainable": m.body[1].weight.requires_grad, "lrs": []})

    def before_step(self):
        self.phases[-1]["lrs"].append([g["lr"] for g in self.learn.opt.param_groups])


def test_fine_tune_phases(make_learner):
    learn = make_learner()
    cb = Phases()
    learn.add_cb(cb)
    learn.fine_tune(2, base_lr=2e-3, freeze_epochs=1)
    assert len(cb.phases) == 2
    frozen, unfrozen = cb.phases
    assert not frozen["body_trainable"] and frozen["bn_trainable"]
    assert unfrozen["body_trainable"]
    assert len(frozen["lrs"]) == 6 and len(unfrozen["lrs"]) == 12
    # phase 1: slice(base_lr) -> body base_lr/10, head base_lr; pct_start=0.99 so the peak is at the end
    assert all(hi / lo == pytest.approx(10) for lo, hi in frozen["lrs"])
    assert max(hi for _, hi in frozen["lrs"]) <= 2e-3
    assert frozen["lrs"][0][1] == pytest.approx(2e-3 / 25)
    assert frozen["lrs"][-1][1] == max(hi for _, hi in frozen["lrs"])
    # phase 2: slice(base_lr/2/100, base_lr/2), div=5, peak at pct_start=0.3
    assert all(hi / lo == pytest.approx(100) for lo, hi in unfrozen["lrs"])
    his = [hi for _, hi in unfrozen["lrs"]]
    assert his[0] == pytest.approx(1e-3 / 5)
    assert max(his) == pytest.approx(1e-3, rel=0.01)
    assert his.index(max(his)) == 4  # batch 4 of 12 (pct 0.33) is the closest to the peak at 0.3
    assert all(p.requires_grad for p in learn.model.parameters())


def test_fine_tune_without_freeze_epochs(make_learner):
    learn = make_learner()
    cb = Phases()
    learn.fine_tune(1, freeze_epochs=0, cbs=[cb])
    assert len(cb.phases) == 1 and cb.phases[0]["body_trainable"]
