"""The Recorder reads training losses in batches (no read per batch) and still records every batch exactly."""

from __future__ import annotations

import pytest
import torch

from graftzoo.learner import Callback, CancelBatchException


class LossSpy(Callback):
    """Records each training batch's loss (read directly) and what the Recorder shows at that moment."""

    order = 70  # after the Recorder

    def __init__(self) -> None:
        self.losses: list[float] = []
        self.pending: list[int] = []

    def after_batch(self) -> None:
        if self.learn.training and self.learn.loss is not None:
            self.losses.append(self.learn.loss.item())
            self.pending.append(len(self.learn.recorder._pending))


def smoothed(values: list[float], beta: float) -> list[float]:
    out, avg = [], 0.0
    for i, v in enumerate(values, 1):
        avg = avg * beta + (1 - beta) * v
        out.append(avg / (1 - beta**i))
    return out


@pytest.mark.parametrize("flush_every", [256, 4])
def test_recorded_losses_are_the_batch_losses(make_learner, flush_every):
    spy = LossSpy()
    learn = make_learner(cbs=[spy])
    learn.recorder.flush_every = flush_every
    learn.fit(2)  # 6 batches per epoch
    rec = learn.recorder
    assert rec.raw_losses == pytest.approx(spy.losses, abs=0)
    assert rec.losses == pytest.approx(smoothed(spy.losses, rec.beta), rel=1e-12)
    assert [v[0] for v in rec.values] == pytest.approx([rec.losses[5], rec.losses[11]], rel=1e-12)
    assert max(spy.pending) == (flush_every - 1 if flush_every <= 6 else 6)  # read every flush_every batches, else per phase
    assert spy.pending[:3] == [1, 2, 3]  # nothing was read from the loss while the phase ran


def test_a_reader_per_batch_sees_every_batch(make_learner):
    class SmoothReader(Callback):
        order = 70

        def __init__(self) -> None:
            self.seen: list[float] = []

        def after_batch(self) -> None:
            if self.learn.training:
                self.seen.append(self.learn.recorder.smooth_loss)

    reader = SmoothReader()
    learn = make_learner(cbs=[reader])
    learn.fit(1)
    assert reader.seen == learn.recorder.losses and len(reader.seen) == 6


def test_batch_cancelled_before_its_loss_is_not_recorded(make_learner):
    class SkipThird(Callback):
        def before_batch(self) -> None:
            if self.learn.training and self.learn.iter == 2:
                raise CancelBatchException()

    learn = make_learner(cbs=[SkipThird()])
    learn.fit(1)
    rec = learn.recorder
    assert len(rec.raw_losses) == len(rec.losses) == len(rec.lrs) == len(rec.moms) == 5
    assert rec.iters == [5]


def test_bfloat16_losses_are_recorded_as_floats(make_learner):
    spy = LossSpy()
    learn = make_learner(loss_func=lambda pred, y: torch.nn.functional.cross_entropy(pred, y).bfloat16(), cbs=[spy])
    learn.fit(1)
    assert len(learn.recorder.raw_losses) == 6
    assert learn.recorder.raw_losses == spy.losses  # bfloat16 values are exact in float32
    assert all(isinstance(v, float) for v in learn.recorder.raw_losses)
