"""Callbacks: event order, ordering by `order`, run_train/run_valid, cancel exceptions."""

from __future__ import annotations

import pytest
import torch

from graftzoo.learner import (
    EVENTS,
    Callback,
    CancelBackwardException,
    CancelBatchException,
    CancelEpochException,
    CancelFitException,
    CancelStepException,
    CancelTrainException,
    CancelValidException,
)


class Log(Callback):
    def __init__(self, log, tag="", order=0):
        self.log, self.tag, self.order = log, tag, order

    def _rec(self, ev):
        self.log.append(ev if not self.tag else f"{self.tag}:{ev}")


def _logging_cb(log, tag="", order=0, events=EVENTS):
    attrs = {ev: (lambda self, ev=ev: self._rec(ev)) for ev in events}
    return type("AllEvents", (Log,), attrs)(log, tag, order)


def test_event_order_of_one_epoch(make_learner, data):
    log = []
    learn = make_learner(dls=data(n=8, bs=4))  # 6 train items: 2 batches; 2 valid items: 1 batch
    learn.fit(1, cbs=[_logging_cb(log)])
    batch_train = ["before_batch", "after_pred", "after_loss", "before_backward", "after_backward",
                   "before_step", "after_step", "after_batch"]
    batch_valid = ["before_batch", "after_pred", "after_loss", "after_batch"]
    assert log == (
        ["before_fit", "before_epoch", "before_train", *batch_train, *batch_train, "after_train",
         "before_validate", *batch_valid, "after_validate", "after_epoch", "after_fit"]
    )


def test_callbacks_run_by_order(make_learner):
    log = []
    a, b = _logging_cb(log, "a", order=5, events=["before_fit"]), _logging_cb(log, "b", order=-5, events=["before_fit"])
    make_learner(cbs=[a, b]).fit(1)
    assert log == ["b:before_fit", "a:before_fit"]


def test_run_valid_false_skips_validation_batches(make_learner):
    class TrainOnly(Callback):
        run_valid = False

        def __init__(self):
            self.n = 0

        def after_batch(self):
            assert self.learn.training
            self.n += 1

    cb = TrainOnly()
    make_learner().fit(2, cbs=[cb])
    assert cb.n == 12


def test_callback_reads_learner_attributes_and_changes_the_batch(make_learner):
    class ZeroInputs(Callback):
        def before_batch(self):
            assert self.xb is self.learn.xb  # attribute fallback to the learner
            self.learn.xb = (torch.zeros_like(self.learn.xb[0]),)

        def after_pred(self):
            self.preds = self.learn.pred.detach().clone()

    cb = ZeroInputs()
    learn = make_learner()
    with learn.added_cbs([cb]):
        learn.validate()
    assert torch.allclose(cb.preds, cb.preds[0].expand_as(cb.preds))  # every input was zero


def test_unknown_attribute_raises_attribute_error(make_learner):
    cb = Callback()
    with pytest.raises(AttributeError):
        cb.nothing_here
    make_learner(cbs=[cb])
    with pytest.raises(AttributeError):
        cb.nothing_here_either
    assert cb.name == "callback"


def _raiser(exc, event, when=lambda learn: True):
    def handler(self):
        if when(self.learn):
            raise exc()

    return type("Raiser", (Callback,), {event: handler})()


def test_cancel_fit(make_learner):
    log = []
    learn = make_learner(cbs=[_logging_cb(log, events=["after_cancel_fit", "after_fit", "before_validate"])])
    learn.fit(3, cbs=[_raiser(CancelFitException, "after_batch", lambda l: l.train_iter == 2)])
    assert log == ["after_cancel_fit", "after_fit"]
    assert len(learn.recorder.lrs) == 1  # the raiser (order 0) runs before the Recorder (order 50)


def test_cancel_epoch_train_valid(make_learner):
    log = []
    learn = make_learner(cbs=[_logging_cb(log, events=["after_cancel_epoch", "after_epoch", "after_cancel_train",
                                                        "after_train", "after_cancel_validate", "after_validate"])])
    learn.fit(2, cbs=[_raiser(CancelEpochException, "before_validate")])
    assert log == ["after_train", "after_cancel_epoch", "after_epoch"] * 2
    log.clear()
    learn.fit(1, cbs=[_raiser(CancelTrainException, "after_batch", lambda l: l.training)])
    assert log == ["after_cancel_train", "after_train", "after_validate", "after_epoch"]
    assert learn.train_iter == 1 and learn.recorder.lrs == []
    log.clear()
    learn.fit(1, cbs=[_raiser(CancelValidException, "before_validate")])
    assert log == ["after_train", "after_cancel_validate", "after_validate", "after_epoch"]
    assert learn.recorder.values[-1][1] is None  # no validation loss


def test_cancel_batch_skips_the_step(make_learner):
    learn = make_learner()
    before = {k: v.clone() for k, v in learn.model.named_parameters()}
    log = []
    learn.fit(1, cbs=[_raiser(CancelBatchException, "before_backward"), _logging_cb(log, events=["after_cancel_batch", "after_batch", "before_step"])])
    assert all(torch.equal(before[k], v) for k, v in learn.model.named_parameters())
    assert "before_step" not in log
    assert log.count("after_cancel_batch") == 6 and log.count("after_batch") == 6 + 2


def test_cancel_backward_and_step(make_learner):
    learn = make_learner()
    before = {k: v.clone() for k, v in learn.model.named_parameters()}
    learn.fit(1, cbs=[_raiser(CancelStepException, "before_step")])
    assert all(torch.equal(before[k], v) for k, v in learn.model.named_parameters())
    log = []
    learn.fit(1, cbs=[_raiser(CancelBackwardException, "before_backward"), _logging_cb(log, events=["after_cancel_backward", "after_backward", "before_step"])])
    assert log[:3] == ["after_cancel_backward", "after_backward", "before_step"]
    assert all(torch.equal(before[k], v) for k, v in learn.model.named_parameters())


def test_add_remove_and_call(make_learner):
    log = []
    cb = _logging_cb(log, events=["before_fit"])
    learn = make_learner()
    learn.add_cb(cb)
    learn("before_fit")
    assert log == ["before_fit"]
    learn.remove_cb(cb)
    learn("before_fit")
    assert log == ["before_fit"]
    with learn.removed_cbs([learn.recorder]):
        assert learn.recorder not in learn.cbs
    assert learn.recorder in learn.cbs
