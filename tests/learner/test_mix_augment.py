"""MixUp and CutMix: the batch is mixed with the drawn lambda, the loss is the lambda-weighted
cross-entropy by hand, and metrics and validation see the original hard labels."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from graftzoo import CutMix, MixUp
from graftzoo.errors import ConfigError
from graftzoo.learner import Callback


class Images:
    c = 3

    def __init__(self, n: int = 8) -> None:
        g = torch.Generator().manual_seed(0)
        self.x, self.y = torch.rand(n, 3, 8, 8, generator=g), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])[:n]
        self.train = DataLoader(TensorDataset(self.x, self.y), batch_size=n)
        self.valid = DataLoader(TensorDataset(self.x, self.y), batch_size=n)


class Spy(Callback):
    """Seeds the draw, then keeps what the loss saw and what metrics see."""

    order = -3

    def __init__(self) -> None:
        self.seen: dict[str, dict[str, torch.Tensor]] = {}

    def before_batch(self) -> None:
        if self.learn.training:
            torch.manual_seed(123)

    def after_loss(self) -> None:  # runs before the mix callback's after_loss (order -3 < -2)
        phase = "train" if self.learn.training else "valid"
        self.seen[phase] = {"x": self.learn.xb[0].clone(), "y": self.learn.yb[0].clone(),
                            "pred": self.learn.pred.detach().clone(), "loss": self.learn.loss.detach().clone()}

    def after_batch(self) -> None:
        if self.learn.training:
            self.seen["train"]["y_after"] = self.learn.yb[0].clone()


def _fit(make_learner, cb: Callback) -> tuple[Images, Spy]:
    data, spy = Images(), Spy()
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 3))
    learn = make_learner(dls=data, model=model, loss_func=nn.CrossEntropyLoss(), cbs=[spy, cb])
    learn.fit(1, lr=1e-3)
    return data, spy


def _weighted_ce(pred: torch.Tensor, y: torch.Tensor, lam: float) -> torch.Tensor:
    ce = nn.functional.cross_entropy
    return lam * ce(pred, y) + (1 - lam) * ce(pred, y.roll(1))


def test_mixup_mixes_with_the_drawn_lambda_and_weights_the_loss(make_learner):
    mix = MixUp(alpha=0.4)
    data, spy = _fit(make_learner, mix)
    torch.manual_seed(123)
    lam = float(torch.distributions.Beta(torch.tensor([0.4]), torch.tensor([0.4])).sample(()))
    assert mix.lam == pytest.approx(lam) and 0 < lam < 1
    train = spy.seen["train"]
    torch.testing.assert_close(train["x"], lam * data.x + (1 - lam) * data.x.roll(1, 0))
    torch.testing.assert_close(train["loss"], _weighted_ce(train["pred"], data.y, lam))
    assert torch.equal(train["y_after"], data.y)  # hard labels again after the loss
    valid = spy.seen["valid"]
    assert torch.equal(valid["x"], data.x) and torch.equal(valid["y"], data.y)  # validation is not mixed


def test_cutmix_pastes_a_box_and_weights_the_loss_by_its_area(make_learner):
    cut = CutMix(alpha=1.0)
    data, spy = _fit(make_learner, cut)
    x1, y1, x2, y2 = cut.params["box"]
    assert 0 < (x2 - x1) * (y2 - y1) < 64
    expected = data.x.clone()
    expected[..., y1:y2, x1:x2] = data.x.roll(1, 0)[..., y1:y2, x1:x2]
    train = spy.seen["train"]
    torch.testing.assert_close(train["x"], expected)
    lam = 1 - (x2 - x1) * (y2 - y1) / 64
    assert cut.lam == pytest.approx(lam)
    torch.testing.assert_close(train["loss"], _weighted_ce(train["pred"], data.y, lam))
    assert torch.equal(train["y_after"], data.y)


def test_mix_needs_class_indices_and_images(make_learner):
    data = Images()
    data.train = DataLoader(TensorDataset(data.x.flatten(1), data.y), batch_size=8)
    learn = make_learner(dls=data, model=nn.Linear(192, 3), loss_func=nn.CrossEntropyLoss(), cbs=[MixUp()])
    with pytest.raises(ConfigError, match="4-d"):
        learn.fit(1)
    with pytest.raises(ConfigError, match="alpha"):
        CutMix(alpha=0)


def test_mix_needs_a_loss_that_takes_probabilities(make_learner):
    def hard_only(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return nn.functional.nll_loss(out.log_softmax(-1), y)

    model = nn.Sequential(nn.Flatten(), nn.Linear(192, 3))
    learn = make_learner(dls=Images(), model=model, loss_func=hard_only, cbs=[CutMix()])
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(ConfigError, match="soft targets"):
        learn.fit(1)
    assert all(torch.equal(p, q) for p, q in zip(before, model.parameters()))
