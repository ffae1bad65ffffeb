"""tta: n passes through the train-time batch transform, averaged, then blended with plain predictions."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from graftzoo.errors import ConfigError


class ShiftingData:
    """The training transform adds 1, 2, 3, ... to the images, one more per call; validation adds nothing."""

    vocab = ["a", "b", "c"]

    def __init__(self) -> None:
        g = torch.Generator().manual_seed(0)
        self.x, self.y = torch.randn(10, 4, generator=g), torch.randint(0, 3, (10,), generator=g)
        self.train = DataLoader(TensorDataset(self.x, self.y), batch_size=10)
        self.valid = DataLoader(TensorDataset(self.x, self.y), batch_size=10)
        self.calls = 0

    def batch_transform(self, batch, train):
        x, y = batch
        if not train:
            return x, y
        self.calls += 1
        return x + self.calls, y


def _learner(make_learner):
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    return make_learner(dls=ShiftingData(), model=model, loss_func=nn.CrossEntropyLoss()), model


def _probs(model, x):
    with torch.no_grad():
        return model(x).softmax(-1)


def test_tta_blends_the_mean_of_augmented_passes_with_plain_predictions(make_learner):
    learn, model = _learner(make_learner)
    learn.activation = lambda t: t.softmax(-1)
    preds, targs = learn.tta(n=3, beta=0.25)
    x = learn.dls.x
    aug = torch.stack([_probs(model, x + k) for k in (1, 2, 3)]).mean(0)
    torch.testing.assert_close(preds, 0.75 * aug + 0.25 * _probs(model, x))
    assert torch.equal(targs, learn.dls.y)
    assert type(learn.dls).__name__ == "ShiftingData"  # the data are the learner's own again


def test_tta_use_max_and_beta_none(make_learner):
    learn, model = _learner(make_learner)
    x = learn.dls.x
    (aug, plain), _ = learn.tta(n=2, beta=None)
    torch.testing.assert_close(aug, (model(x + 1) + model(x + 2)).detach() / 2)
    torch.testing.assert_close(plain, model(x).detach())
    best, _ = learn.tta(n=2, use_max=True)  # calls 3 and 4
    expected = torch.stack([model(x + 3), model(x + 4), model(x)]).max(0)[0].detach()
    torch.testing.assert_close(best, expected)


def test_tta_needs_a_batch_transform(make_learner):
    learn = make_learner()
    with pytest.raises(ConfigError, match="batch_transform"):
        learn.tta()


class MovingTargets(ShiftingData):
    """A training transform that also changes the targets (as a flip of a segmentation mask would)."""

    def batch_transform(self, batch, train):
        x, y = batch
        return (x, y.roll(1)) if train else (x, y)


def test_tta_refuses_targets_that_the_augmentation_moves(make_learner):
    learn = make_learner(dls=MovingTargets(), model=nn.Linear(4, 3), loss_func=nn.CrossEntropyLoss())
    with pytest.raises(ConfigError, match="changed the targets"):
        learn.tta(n=1)


class NoisyData(ShiftingData):
    """The training transform adds uniform noise from its own seeded stream, or from `gen` when given."""

    def __init__(self) -> None:
        super().__init__()
        self.stream = torch.Generator().manual_seed(1)

    def batch_transform(self, batch, train, gen=None):
        x, y = batch
        if not train:
            return x, y
        return x + torch.rand(x.shape, generator=gen if gen is not None else self.stream), y


def test_tta_draws_from_its_own_seeded_stream_and_leaves_the_datas_alone(make_learner):
    torch.manual_seed(0)
    learn = make_learner(dls=NoisyData(), model=nn.Linear(4, 3), loss_func=nn.CrossEntropyLoss())
    before = learn.dls.stream.get_state()
    first, _ = learn.tta(n=2)
    assert torch.equal(learn.dls.stream.get_state(), before)  # training's augmentation stream did not move
    again, _ = learn.tta(n=2)
    other, _ = learn.tta(n=2, seed=1)
    assert torch.equal(first, again) and not torch.equal(first, other)
