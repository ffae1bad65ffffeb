"""NanGuard: a NaN/inf training loss stops training with a TrainingError before the step."""

from __future__ import annotations

import pytest
import torch

from graftzoo.errors import TrainingError
from graftzoo.learner import Callback


class PoisonAt(Callback):
    order = -20

    def __init__(self, n, value=float("nan")):
        self.n, self.value = n, value

    def after_loss(self):
        if self.learn.training and self.learn.train_iter == self.n:
            self.learn.loss = self.learn.loss * self.value


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_nan_loss_stops_training(make_learner, value):
    learn = make_learner(cbs=[PoisonAt(3, value)])
    with pytest.raises(TrainingError, match="Lower the learning rate") as err:
        learn.fit(2)
    assert "epoch 0, batch 3" in str(err.value)
    assert all(torch.isfinite(p).all() for p in learn.model.parameters())  # stopped before the step
    assert learn.loss is None and learn.xb == ()  # cleaned up
    assert len(learn.recorder.raw_losses) == 3


def test_nan_in_validation_is_not_an_error(make_learner):
    class PoisonValid(Callback):
        def after_loss(self):
            if not self.learn.training:
                self.learn.loss = self.learn.loss * float("nan")

    learn = make_learner(cbs=[PoisonValid()])
    learn.fit(1)
