"""End to end on toy problems: the loss falls, the recorder records, plots are written."""

from __future__ import annotations

import pytest
import torch
from torch import nn


def test_tiny_model_learns(make_learner, data):
    learn = make_learner(dls=data(n=512, shuffle=True), lr=1e-2)
    loss0, acc0 = learn.validate()
    learn.fit_one_cycle(4, 3e-2)
    loss1, acc1 = learn.validate()
    assert loss1 < loss0 * 0.6
    assert acc1 > 0.9
    raw = learn.recorder.raw_losses
    assert sum(raw[-5:]) / 5 < sum(raw[:5]) / 5
    assert learn.recorder.values[-1][1] == pytest.approx(loss1)


def test_fine_tune_learns(make_learner, data):
    learn = make_learner(dls=data(n=512, shuffle=True))
    learn.fine_tune(3, base_lr=2e-2)
    assert learn.validate()[1] > 0.85


def test_recorder_contents(make_learner):
    learn = make_learner()
    learn.fit(2)
    rec = learn.recorder
    assert len(rec.losses) == len(rec.raw_losses) == len(rec.lrs) == len(rec.moms) == 12
    assert rec.iters == [6, 12] and len(rec.values) == 2 and len(rec.times) == 2
    assert rec.losses[0] == pytest.approx(rec.raw_losses[0])  # debiased smoothing
    assert rec.values[-1][0] == pytest.approx(rec.losses[-1])  # train_loss = smoothed loss
    assert rec.moms[0] == pytest.approx(0.9)  # AdamW's beta1, untouched by fit()


def test_plots_are_pngs(make_learner, tmp_path):
    learn = make_learner()
    learn.fit_one_cycle(2)
    p = learn.recorder.plot_loss(tmp_path / "plots" / "loss.png", skip_start=0)
    q = learn.recorder.plot_lr()
    for path in (p, q):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert q == tmp_path / "plots" / "lr.png"  # the plot folder (GRAFTZOO_PLOTS, see conftest)


def test_table_is_printed_aligned(make_learner, capsys):
    learn = make_learner(quiet=False)
    learn.fit(2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ["epoch", "train_loss", "valid_loss", "accuracy", "time"]
    assert [ln.split()[0] for ln in lines[1:]] == ["0", "1"]
    starts = [lines[0].index(c) for c in ("train_loss", "valid_loss", "accuracy", "time")]
    for ln in lines[1:]:
        cells = ln.split()
        assert [ln.index(c, s) for c, s in zip(cells[1:], starts)] == starts


def test_quiet_prints_nothing(make_learner, capsys):
    learn = make_learner(quiet=False)
    with learn.quiet():
        learn.fit(1)
    with learn.no_logging():
        learn.fit(1)
    assert capsys.readouterr().out == ""
    assert learn.show_table and learn.show_bar
    make_learner().fit(1)  # quiet=True
    assert capsys.readouterr().out == ""


def test_moves_to_device_and_back(make_learner):
    learn = make_learner()
    assert learn.device == torch.device("cpu")
    learn.fit(1)
    learn.to("cpu")
    learn.fit(1)
    assert repr(learn).startswith("Learner(model=FakeGrafted")


def test_loss_module_with_weights_moves_with_learner(make_learner):
    learn = make_learner(loss_func=nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0])))
    learn.fit(1)


def test_no_validation_set(make_learner, data):
    dls = data()
    dls.valid = None
    learn = make_learner(dls=dls)
    learn.fit(1)
    assert learn.recorder.values[-1][1] is None
    from graftzoo.errors import ConfigError

    with pytest.raises(ConfigError, match="validation set"):
        learn.validate()
    assert len(learn.validate(dl=data().valid)) == 2


def test_phase_length_is_known_before_the_phase(make_learner):
    from graftzoo.learner import Callback

    class SeeNIter(Callback):
        order = 100

        def __init__(self):
            self.seen = []

        def before_train(self):
            self.seen.append(("train", self.learn.n_iter))

        def before_validate(self):
            self.seen.append(("valid", self.learn.n_iter))

    cb = SeeNIter()
    make_learner().fit(1, cbs=[cb])
    assert cb.seen == [("train", 6), ("valid", 2)]
