"""lr_find: suggestions, a PNG, early stop on divergence, and nothing left changed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from graftzoo.learner import Callback


def _opt_tensors(opt):
    sd = opt.state_dict()
    return sd, {(i, k): v for i, st in sd["state"].items() for k, v in st.items() if torch.is_tensor(v)}


def test_lr_find_restores_weights_and_optimizer(make_learner, tmp_path):
    learn = make_learner(lr=1e-2)
    learn.fit(1)  # optimizer has state now
    model_before = {k: v.clone() for k, v in learn.model.state_dict().items()}
    sd_before, opt_before = _opt_tensors(learn.opt)
    opt_before = {k: v.clone() for k, v in opt_before.items()}
    groups_before = [{k: v for k, v in g.items()} for g in sd_before["param_groups"]]
    res = learn.lr_find(num_it=30, plot_path=tmp_path / "find.png")
    after = learn.model.state_dict()
    assert model_before.keys() == after.keys()
    assert all(torch.equal(model_before[k], after[k]) for k in after)  # includes BN buffers
    sd_after, opt_after = _opt_tensors(learn.opt)
    assert opt_before.keys() == opt_after.keys()
    assert all(torch.equal(opt_before[k], opt_after[k]) for k in opt_after)
    assert sd_after["param_groups"] == groups_before
    assert all(p.grad is None for p in learn.model.parameters())
    assert res._fields == ("valley", "minimum", "steep", "slide")
    assert all(1e-7 <= v <= 10 for v in res)
    assert (tmp_path / "find.png").stat().st_size > 1000


def test_lr_find_without_optimizer_leaves_none(make_learner, tmp_path):
    learn = make_learner()
    learn.lr_find(num_it=20, show_plot=False)
    assert learn.opt is None
    assert not (tmp_path / "plots" / "lr_find.png").exists()


def test_lr_find_default_plot_path_and_names(make_learner, tmp_path):
    learn = make_learner()
    res = learn.lr_find(num_it=20, suggest_funcs=("valley", "minimum"))
    assert res._fields == ("valley", "minimum")
    assert (tmp_path / "plots" / "lr_find.png").is_file()  # the plot folder (GRAFTZOO_PLOTS, see conftest)


def test_lr_find_stops_when_loss_diverges(make_learner, data):
    learn = make_learner(dls=data(n=1024, bs=8))
    learn.lr_find(start_lr=1e-3, end_lr=1e6, num_it=90, show_plot=False)
    n = len(learn.recorder.lrs)
    assert 6 < n < 90
    # the lr grows exponentially
    lrs = np.array(learn.recorder.lrs)
    assert np.allclose(lrs[1:] / lrs[:-1], (1e6 / 1e-3) ** (1 / 90))


class NanAfter(Callback):
    order = -20

    def __init__(self, n):
        self.n = n

    def after_loss(self):
        if self.learn.training and self.learn.train_iter >= self.n:
            self.learn.loss = self.learn.loss * float("nan")


def test_lr_find_is_not_stopped_by_the_nan_guard(make_learner, data):
    learn = make_learner(dls=data(n=1024, bs=8), cbs=[NanAfter(40)])
    res = learn.lr_find(num_it=90, stop_div=False, show_plot=False)
    assert len(learn.recorder.lrs) == 41  # the NaN batch ends the run (no TrainingError)
    assert all(np.isfinite(v) for v in res)
    assert all(torch.isfinite(p).all() for p in learn.model.parameters())


def test_suggestion_rules_on_a_synthetic_curve():
    from graftzoo.learner import minimum, slide, steep, valley

    lrs = np.logspace(-7, 1, 100)
    x = np.log10(lrs)
    losses = 2 - 1.5 / (1 + np.exp(-(x + 3) * 3)) + np.where(x > -0.5, (x + 0.5) ** 2 * 4, 0)
    assert minimum(lrs, losses, 100)[0] == pytest.approx(lrs[np.argmin(losses)] / 10)
    s = steep(lrs, losses, 100)[0]
    assert 10**-3.5 < s < 10**-2.5  # steepest drop of the sigmoid is at 1e-3
    v = valley(lrs, losses, 100)[0]
    assert 1e-5 < v < 1e-1
    sl = slide(lrs, losses, 100)[0]
    assert 1e-7 <= sl <= 10
