"""validate, get_preds and predict (vocab, encode_item, batch_transform, pair inputs)."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from graftzoo.errors import ConfigError


def test_validate_and_get_preds(make_learner):
    learn = make_learner()
    learn.fit(1)
    loss, acc = learn.validate()
    preds, targs = learn.get_preds()
    assert preds.shape == (64, 2) and targs.shape == (64,)
    assert torch.allclose(preds.sum(-1), torch.ones(64))  # the task's softmax was applied
    logits = torch.log(preds)
    assert loss == pytest.approx(nn.functional.nll_loss(logits, targs).item(), abs=1e-5)
    assert acc == pytest.approx((preds.argmax(-1) == targs).float().mean().item(), abs=1e-6)


def test_get_preds_with_loss_and_input(make_learner, data):
    learn = make_learner()
    inputs, preds, targs, losses = learn.get_preds(dl=learn.dls.train, with_loss=True, with_input=True)
    assert inputs.shape == (192, 4) and preds.shape == (192, 2) and losses.shape == (192,)
    assert torch.equal(inputs, learn.dls.train.dataset.tensors[0])
    assert torch.allclose(losses, -torch.log(preds[torch.arange(192), targs]), atol=1e-5)
    assert learn.model.training is False


def test_get_preds_with_loss_needs_reduction(make_learner, fake_grafted):
    learn = make_learner(loss_func=lambda out, y: nn.functional.cross_entropy(out, y))
    with pytest.raises(ConfigError, match="reduction"):
        learn.get_preds(with_loss=True)


def test_predict_uses_vocab(make_learner):
    learn = make_learner()
    learn.fit(2, lr=1e-2)
    label, idx, probs = learn.predict(torch.tensor([3.0, 3.0, 0.0, 0.0]))
    assert label == "pos" and int(idx) == 1 and probs.shape == (2,)
    assert probs.sum().item() == pytest.approx(1.0)
    label, idx, _ = learn.predict(torch.tensor([-3.0, -3.0, 0.0, 0.0]))
    assert label == "neg" and int(idx) == 0


def test_predict_without_task_or_vocab(make_learner, data):
    dls = data()
    del dls.vocab
    model = nn.Sequential(nn.Linear(4, 3))
    learn = make_learner(dls=dls, model=model, loss_func=nn.CrossEntropyLoss())
    label, idx, out = learn.predict(torch.ones(4))
    assert label == int(idx) == int(model(torch.ones(1, 4)).argmax())
    assert torch.allclose(out, model(torch.ones(1, 4))[0])  # identity activation


class PairDls:
    """Two inputs per sample, a batch_transform that scales inputs, and encode_item."""

    vocab = ["different", "same"]

    def __init__(self):
        g = torch.Generator().manual_seed(0)
        a, b = torch.randn(64, 3, generator=g), torch.randn(64, 3, generator=g)
        y = (a[:, 0] > b[:, 0]).long()
        self.train = DataLoader(TensorDataset(a[:48], b[:48], y[:48]), batch_size=16)
        self.valid = DataLoader(TensorDataset(a[48:], b[48:], y[48:]), batch_size=16)
        self.calls = []

    def batch_transform(self, batch, train):
        self.calls.append((train, len(batch)))
        *xs, y = batch
        return (*(x * 2 for x in xs), y)

    def encode_item(self, item):
        """Model inputs, already through the validation transform (as the vision dls do)."""
        a, b = item
        batch = (torch.as_tensor(a, dtype=torch.float32)[None], torch.as_tensor(b, dtype=torch.float32)[None], torch.zeros(1))
        return self.batch_transform(batch, False)[:-1]


class PairModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(6, 2)

    def forward(self, a, b):
        return self.lin(torch.cat([a, b], dim=1))


def test_pair_model_batch_transform_and_encode_item(make_learner):
    dls = PairDls()
    model = PairModel()
    learn = make_learner(dls=dls, model=model, loss_func=nn.CrossEntropyLoss())
    learn.fit(1)
    assert dls.calls == [(True, 3)] * 3 + [(False, 3)]
    dls.calls.clear()
    label, idx, out = learn.predict(([1.0, 0.0, 0.0], [0.0, 0.0, 0.0]))
    assert dls.calls == [(False, 3)]  # once, inside encode_item; predict does not transform again
    want = model(torch.tensor([[2.0, 0, 0]]), torch.zeros(1, 3))[0]
    assert torch.allclose(out, want)
    assert label == dls.vocab[int(idx)]


def test_multi_label_decode_gives_label_list(make_learner, data):
    class MultiTask:
        def loss_func(self):
            return nn.BCEWithLogitsLoss()

        def metrics(self):
            return []

        def activation(self, out):
            return out.sigmoid()

        def decode(self, probs):
            return probs > 0.5

    model = nn.Linear(4, 2)
    model.task = MultiTask()
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 0]]))
        model.bias.zero_()
    learn = make_learner(dls=data(), model=model)
    label, flags, probs = learn.predict(torch.tensor([2.0, -2.0, 0, 0]))
    assert label == ["neg"] and flags.tolist() == [True, False]


def test_bad_batches_say_what_to_do(make_learner):
    class OneTensor:
        train = valid = DataLoader(torch.randn(8, 4), batch_size=4)

    learn = make_learner(dls=OneTensor())
    with pytest.raises(ConfigError, match=r"\(x, y\)"):
        learn.fit(1)


def test_no_loss_without_task_is_a_config_error(make_learner):
    with pytest.raises(ConfigError, match="loss_func"):
        make_learner(model=nn.Linear(4, 2))


def test_predict_uses_the_tasks_decode_labels(make_learner, fake_grafted):
    model = fake_grafted()

    class LabelledTask(type(model.task)):
        def decode_labels(self, decoded, vocab):
            return f"class {vocab[int(decoded)]}"

    model.task = LabelledTask()
    learn = make_learner(model=model)
    label, idx, _ = learn.predict(torch.zeros(4))
    assert label == f"class {['neg', 'pos'][int(idx)]}"
