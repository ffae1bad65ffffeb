"""fastai's training callbacks: trackers, early stopping, best-model saving, lr on plateau, CSV log, grad clipping."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from graftzoo.errors import ConfigError
from graftzoo.learner import (
    Callback,
    CSVLogger,
    EarlyStoppingCallback,
    GradientClip,
    ReduceLROnPlateau,
    SaveModelCallback,
    TrackerCallback,
)
from graftzoo.metrics import Metric

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


class Scripted(Metric):
    """A metric whose value at epoch i is `values[i]`, whatever the predictions."""

    def __init__(self, name, values):
        self.name, self.values, self.epoch = name, list(values), -1

    def reset(self):
        self.epoch += 1

    def accumulate(self, pred, targ):
        pass

    @property
    def value(self):
        return self.values[self.epoch]


class Snapshots(Callback):
    """The model's state dict after every epoch (after the trackers)."""

    order = 90

    def __init__(self):
        self.states = []

    def after_epoch(self):
        self.states.append({k: v.detach().clone() for k, v in self.learn.model.state_dict().items()})


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# -- TrackerCallback -----------------------------------------------------------------------------

def test_tracker_comparison_defaults_and_min_delta_sign():
    assert TrackerCallback("valid_loss").comp is np.less
    assert TrackerCallback("error_rate").comp is np.less
    assert TrackerCallback("accuracy").comp is np.greater
    assert TrackerCallback("valid_loss", min_delta=0.1).min_delta == -0.1
    assert TrackerCallback("accuracy", min_delta=0.1).min_delta == 0.1
    assert TrackerCallback("valid_loss").best == float("inf") and TrackerCallback("accuracy").best == -float("inf")


def test_tracker_follows_the_recorded_value_epoch_by_epoch(make_learner):
    seen = []

    class Watch(TrackerCallback):
        def after_epoch(self):
            super().after_epoch()
            seen.append((self.new_best, self.best, self.best_epoch))

    learn = make_learner(metrics=[Scripted("score", [0.5, 0.7, 0.6, 0.75, 0.8])])
    learn.fit(5, cbs=[Watch("score", min_delta=0.06)])
    # 0.75 is not 0.06 above 0.7; 0.8 is
    assert seen == [(True, 0.5, 0), (True, 0.7, 1), (False, 0.7, 1), (False, 0.7, 1), (True, 0.8, 4)]
    valid_watch = Watch()  # valid_loss: the best is the minimum of the recorded column
    seen.clear()
    learn.metrics = [Scripted("score", [0.0] * 3)]
    learn.fit(3, cbs=[valid_watch])
    losses = [row[1] for row in learn.recorder.values]
    assert valid_watch.best == min(losses) and valid_watch.best_epoch == losses.index(min(losses))


def test_unknown_monitor_is_a_config_error_naming_the_recorded_values(make_learner):
    learn = make_learner()
    before = {k: v.clone() for k, v in learn.model.state_dict().items()}
    with pytest.raises(ConfigError, match=r"'valid_acc'.*'train_loss', 'valid_loss', 'accuracy'"):
        learn.fit(1, cbs=[EarlyStoppingCallback("valid_acc")])
    assert _same(before, learn.model.state_dict())  # raised before any training


def test_monitoring_a_validation_value_without_a_validation_set_is_a_config_error(make_learner, data):
    dls = data()
    dls.valid = None
    learn = make_learner(dls=dls)
    with pytest.raises(ConfigError, match="no validation set"):
        learn.fit(1, cbs=[SaveModelCallback()])
    learn.fit(2, cbs=[EarlyStoppingCallback("train_loss", patience=5)])  # train_loss needs none
    assert len(learn.recorder.values) == 2


# -- EarlyStoppingCallback -----------------------------------------------------------------------

def test_early_stopping_stops_after_patience_epochs_without_improvement(make_learner, capsys):
    learn = make_learner(metrics=[Scripted("score", [0.5, 0.7, 0.6, 0.65, 0.9, 0.95])], quiet=False)
    cb = EarlyStoppingCallback("score", patience=2)
    learn.fit(6, cbs=[cb])
    assert len(learn.recorder.values) == 4  # epochs 0-3: epochs 2 and 3 did not beat epoch 1
    assert cb.best == 0.7 and cb.best_epoch == 1
    assert "since epoch 1" in capsys.readouterr().out


def test_early_stopping_counts_min_delta_and_lower_is_better(make_learner):
    learn = make_learner(metrics=[Scripted("error", [0.5, 0.45, 0.3, 0.28, 0.27, 0.1])])
    learn.fit(6, cbs=[EarlyStoppingCallback("error", min_delta=0.1, patience=2)])
    # 0.45 and 0.28/0.27 are within 0.1 of the best; 0.3 is a new best (epoch 2), then two misses
    assert len(learn.recorder.values) == 5


# -- SaveModelCallback ---------------------------------------------------------------------------

def test_save_model_keeps_the_best_epoch_and_loads_it_at_the_end(make_learner, tmp_path):
    snaps = Snapshots()
    learn = make_learner(metrics=[Scripted("score", [0.5, 0.9, 0.6, 0.7])])
    cb = SaveModelCallback("score", fname="best")
    learn.fit(4, cbs=[cb, snaps])
    assert cb.last_saved_path == tmp_path / "models" / "best.safetensors"
    saved = {k[len("model."):]: v for k, v in load_file(cb.last_saved_path).items() if k.startswith("model.")}
    assert _same(saved, snaps.states[1])  # written at the best epoch, not overwritten later
    assert not _same(snaps.states[1], snaps.states[3])
    assert _same(learn.model.state_dict(), snaps.states[1])  # and loaded when the fit ended


def test_save_model_loads_the_best_after_an_early_stop(make_learner):
    snaps = Snapshots()
    learn = make_learner(metrics=[Scripted("score", [0.5, 0.9, 0.6, 0.7, 1.0])])
    learn.fit(5, cbs=[SaveModelCallback("score"), EarlyStoppingCallback("score", patience=2), snaps])
    assert len(learn.recorder.values) == 4
    assert _same(learn.model.state_dict(), snaps.states[1])


def test_save_model_every_epoch_writes_one_file_per_epoch(make_learner, tmp_path):
    snaps = Snapshots()
    learn = make_learner()
    learn.fit(3, cbs=[SaveModelCallback(fname="ep", every_epoch=True, with_opt=True), snaps])
    for epoch in range(3):
        f = load_file(tmp_path / "models" / f"ep_{epoch}.safetensors")
        assert any(k.startswith("opt.") for k in f)
        assert _same({k[len("model."):]: v for k, v in f.items() if k.startswith("model.")}, snaps.states[epoch])
    assert _same(learn.model.state_dict(), snaps.states[2])  # nothing loaded back


def test_save_model_sits_out_lr_find(make_learner, tmp_path):
    learn = make_learner(cbs=[SaveModelCallback(fname="best")])
    learn.lr_find(num_it=12, show_plot=False)
    assert not (tmp_path / "models").exists()


# -- ReduceLROnPlateau ---------------------------------------------------------------------------

def test_reduce_lr_divides_every_group_by_factor_after_patience(make_learner):
    lrs = []

    class GroupLrs(Callback):
        def before_epoch(self):
            lrs.append([g["lr"] for g in self.learn.opt.param_groups])

    learn = make_learner(metrics=[Scripted("score", [0.5, 0.4, 0.4, 0.3, 0.6, 0.6])])
    learn.fit(6, lr=slice(1e-3, 1e-2), cbs=[ReduceLROnPlateau("score", patience=2, factor=4.0), GroupLrs()])
    body, head = lrs[0]
    # epochs 1, 2 miss -> lr / 4 from epoch 3; epoch 3 miss, epoch 4 new best, epoch 5 miss (1 < patience)
    assert lrs == [[body, head]] * 3 + [[body / 4, head / 4]] * 3
    assert learn.opt.param_groups[0]["lr"] == body / 4


def test_reduce_lr_never_goes_below_min_lr(make_learner):
    learn = make_learner(metrics=[Scripted("score", [0.5, 0.4, 0.4])])
    learn.fit(3, lr=1e-3, cbs=[ReduceLROnPlateau("score", factor=10.0, min_lr=5e-5)])
    assert [g["lr"] for g in learn.opt.param_groups] == [5e-5, 5e-5]  # 1e-3 -> 1e-4 -> 5e-5 (not 1e-5)


# -- CSVLogger -----------------------------------------------------------------------------------

def _read(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_csv_logger_rows_equal_the_recorder(make_learner, tmp_path):
    learn = make_learner()
    learn.fit(3, cbs=[CSVLogger()])
    rows = _read(tmp_path / "history.csv")
    rec = learn.recorder
    assert rows[0] == rec.metric_names == ["epoch", "train_loss", "valid_loss", "accuracy", "time"]
    assert len(rows) == 4
    for epoch, (row, values) in enumerate(zip(rows[1:], rec.values)):
        assert int(row[0]) == epoch
        assert [float(c) for c in row[1:-1]] == values  # exact: floats are written with repr
        assert row[-1].count(":") == 1


def test_csv_logger_append_keeps_earlier_rows_and_one_header(make_learner, tmp_path):
    learn = make_learner()
    learn.fit(2, cbs=[CSVLogger("logs/h.csv")])
    learn.fit(1, cbs=[CSVLogger("logs/h.csv", append=True)])
    rows = _read(tmp_path / "logs" / "h.csv")
    assert [r[0] for r in rows] == ["epoch", "0", "1", "0"]
    learn.fit(1, cbs=[CSVLogger("logs/h.csv")])  # append=False starts over
    assert [r[0] for r in _read(tmp_path / "logs" / "h.csv")] == ["epoch", "0"]


def test_csv_logger_keeps_the_epochs_before_an_early_stop(make_learner, tmp_path):
    learn = make_learner(metrics=[Scripted("score", [0.5, 0.4, 0.9])])
    learn.fit(3, cbs=[CSVLogger(), EarlyStoppingCallback("score")])
    rows = _read(tmp_path / "history.csv")
    assert [float(r[3]) for r in rows[1:]] == [0.5, 0.4]  # the stopping epoch is logged too


# -- GradientClip --------------------------------------------------------------------------------

class GradProbe(Callback):
    """Copies the gradients and parameters in before_step (at its order) and the parameters after the step."""

    def __init__(self, order):
        self.order, self.grads, self.before, self.after = order, [], [], []

    def before_step(self):
        params = list(self.learn.model.parameters())
        self.grads.append([p.grad.detach().clone() for p in params])
        self.before.append([p.detach().clone() for p in params])

    def after_step(self):
        self.after.append([p.detach().clone() for p in self.learn.model.parameters()])


def _norm(grads):
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])).item()


def test_gradient_clip_bounds_the_norm_and_the_step_uses_the_clipped_grads(make_learner, data):
    raw, clipped = GradProbe(order=-5), GradProbe(order=5)
    clip = GradientClip(max_norm=1e-3)
    learn = make_learner(dls=data(n=64, bs=16), opt_func=torch.optim.SGD, lr=0.5)
    learn.fit(1, cbs=[raw, clip, clipped])
    assert len(clipped.grads) == 3
    for g_raw, g_clip, p_before, p_after in zip(raw.grads, clipped.grads, clipped.before, clipped.after):
        n_raw = _norm(g_raw)
        assert n_raw > 1e-3  # clipping had work to do
        assert _norm(g_clip) <= 1e-3 * (1 + 1e-5)
        for gr, gc in zip(g_raw, g_clip):
            torch.testing.assert_close(gc, gr * (1e-3 / (n_raw + 1e-6)))
        for pb, pa, gc in zip(p_before, p_after, g_clip):
            torch.testing.assert_close(pa, pb - 0.5 * gc)  # plain SGD stepped with the clipped gradient
    assert clip.last_norm is not None and clip.last_norm.item() == pytest.approx(_norm(raw.grads[-1]), rel=1e-5)


def test_gradient_clip_leaves_small_gradients_alone(make_learner):
    raw, clipped = GradProbe(order=-5), GradProbe(order=5)
    make_learner().fit(1, cbs=[raw, GradientClip(max_norm=1e6, norm_type=1.0), clipped])
    for g_raw, g_clip in zip(raw.grads, clipped.grads):
        for gr, gc in zip(g_raw, g_clip):
            assert torch.equal(gr, gc)


@cuda
def test_gradient_clip_unscales_fp16_gradients_first(make_learner):
    clipped = GradProbe(order=5)
    learn = make_learner(device="cuda").to_fp16()
    scale = learn.precision.scaler.get_scale()
    learn.fit(1, cbs=[GradientClip(max_norm=1e-3), clipped])
    assert scale > 1  # the scaled gradients would be far above max_norm
    for g in clipped.grads:
        assert _norm(g) <= 1e-3 * (1 + 1e-3)
    assert not _same(dict(enumerate(clipped.before[0])), dict(enumerate(clipped.after[-1])))  # steps were taken
