"""get_preds: fastai's return order, decoded per task, per-item losses, `act`."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from graftzoo.task import MultiLabelTask, RegressionTask


def test_order_inputs_preds_targets_decoded_losses(make_learner):
    learn = make_learner()
    learn.fit(1, lr=1e-2)
    inputs, preds, targs, decoded, losses = learn.get_preds(with_input=True, with_decoded=True, with_loss=True)
    x, y = learn.dls.valid.dataset.tensors
    assert torch.equal(inputs, x) and torch.equal(targs, y)
    with torch.no_grad():
        logits = learn.model.eval()(x)
    torch.testing.assert_close(preds, logits.softmax(-1))
    assert torch.equal(decoded, logits.argmax(-1))
    torch.testing.assert_close(losses, nn.functional.cross_entropy(logits, y, reduction="none"))
    preds2, targs2, decoded2 = learn.get_preds(with_decoded=True)
    assert torch.equal(preds2, preds) and torch.equal(decoded2, decoded)


def test_act_replaces_the_activation(make_learner):
    learn = make_learner()
    raw, _ = learn.get_preds(act=lambda t: t)
    soft, _ = learn.get_preds()
    torch.testing.assert_close(raw.softmax(-1), soft)


class TaskModel(nn.Module):
    def __init__(self, task: object, n_out: int) -> None:
        super().__init__()
        self.lin, self.task = nn.Linear(3, n_out), task

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x)


class Data:
    def __init__(self, y: torch.Tensor) -> None:
        x = torch.randn(len(y), 3, generator=torch.Generator().manual_seed(1))
        self.train = self.valid = DataLoader(TensorDataset(x, y), batch_size=4)


def test_multilabel_decodes_by_threshold_and_regression_by_identity(make_learner):
    multi = make_learner(dls=Data(torch.randint(0, 2, (10, 4)).float()), model=TaskModel(MultiLabelTask(thresh=0.3), 4))
    preds, _, decoded, losses = multi.get_preds(with_decoded=True, with_loss=True)
    assert torch.equal(decoded, preds > 0.3) and losses.shape == (10, 4)  # BCE per item and label
    reg = make_learner(dls=Data(torch.randn(10, 1)), model=TaskModel(RegressionTask(), 1))
    preds, targs, decoded, losses = reg.get_preds(with_decoded=True, with_loss=True)
    assert torch.equal(decoded, preds)
    torch.testing.assert_close(losses, (preds - targs) ** 2)
