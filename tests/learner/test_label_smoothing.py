"""LabelSmoothingCrossEntropy: fastai's formula by hand, soft targets, and the task's decoding kept."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from graftzoo import LabelSmoothingCrossEntropy
from graftzoo.errors import ConfigError


def test_formula_by_hand_and_reductions():
    out = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
    y = torch.tensor([0, 1])
    logp = out.log_softmax(-1)
    eps = 0.2
    per_item = eps / 3 * -logp.sum(-1) + (1 - eps) * -logp[torch.arange(2), y]
    lf = LabelSmoothingCrossEntropy(eps=eps)
    torch.testing.assert_close(lf(out, y), per_item.mean())
    torch.testing.assert_close(LabelSmoothingCrossEntropy(eps, reduction="sum")(out, y), per_item.sum())
    torch.testing.assert_close(LabelSmoothingCrossEntropy(eps, reduction="none")(out, y), per_item)
    torch.testing.assert_close(lf(out, y), nn.CrossEntropyLoss(label_smoothing=eps)(out, y))  # same thing, torch's way


def test_soft_targets_are_the_weighted_hard_losses():
    out = torch.randn(5, 4)
    y1, y2, lam = torch.tensor([0, 1, 2, 3, 0]), torch.tensor([1, 1, 0, 2, 3]), 0.7
    soft = lam * nn.functional.one_hot(y1, 4).float() + (1 - lam) * nn.functional.one_hot(y2, 4).float()
    lf = LabelSmoothingCrossEntropy(0.1)
    torch.testing.assert_close(lf(out, soft), lam * lf(out, y1) + (1 - lam) * lf(out, y2))


def test_bad_eps():
    with pytest.raises(ConfigError, match="eps"):
        LabelSmoothingCrossEntropy(eps=1.0)


def test_as_loss_func_keeps_activation_and_decoding(make_learner):
    learn = make_learner(loss_func=LabelSmoothingCrossEntropy())
    learn.fit(1, lr=1e-2)
    preds, targs, decoded, losses = learn.get_preds(with_decoded=True, with_loss=True)
    torch.testing.assert_close(preds.sum(-1), torch.ones(len(preds)))  # the task's softmax
    assert torch.equal(decoded, preds.argmax(-1))
    assert losses.shape == targs.shape
    loss, _ = learn.validate()
    assert loss == pytest.approx(losses.mean().item(), rel=1e-5)


def test_without_a_task_the_loss_activates_and_decodes(make_learner):
    model = nn.Linear(4, 2)
    learn = make_learner(model=model, loss_func=LabelSmoothingCrossEntropy())
    preds, _, decoded = learn.get_preds(with_decoded=True)
    x = learn.dls.valid.dataset.tensors[0]
    with torch.no_grad():
        torch.testing.assert_close(preds, model(x).softmax(-1))
    assert torch.equal(decoded, preds.argmax(-1))
