"""NanGuard leaves the whole state dict (weights and BatchNorm statistics) as after the last good batch."""

from __future__ import annotations

import pytest
import torch

from graftzoo.errors import TrainingError
from graftzoo.learner import Callback


class Snapshot(Callback):
    """Keeps the model's state dict after every training batch; poisons the inputs of batch `bad`."""

    order = 70

    def __init__(self, bad: int) -> None:
        self.bad = bad
        self.state: dict[str, torch.Tensor] = {}

    def before_batch(self) -> None:
        if self.learn.training and self.learn.train_iter == self.bad:
            x = self.learn.xb[0].clone()
            x[0, 0] = float("nan")  # BatchNorm's running statistics take the NaN in the forward pass
            self.learn.xb = (x,)

    def after_batch(self) -> None:
        if self.learn.training:
            self.state = {k: v.clone() for k, v in self.learn.model.state_dict().items()}


def test_nan_batch_leaves_the_previous_batch_state(make_learner):
    snap = Snapshot(bad=4)
    learn = make_learner(cbs=[snap])
    with pytest.raises(TrainingError, match="epoch 0, batch 4"):
        learn.fit_one_cycle(1, 1e-2)
    after = learn.model.state_dict()
    assert set(after) == set(snap.state) and any("running_mean" in k for k in after)
    assert all(torch.equal(after[k], snap.state[k]) for k in after)
    assert len(learn.recorder.raw_losses) == 4
