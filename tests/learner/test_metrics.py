"""Metrics against hand computations and sklearn."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
from graftzoo.metrics import (
    RMSE,
    AvgMetric,
    F1Score,
    Precision,
    R2Score,
    Recall,
    RocAuc,
    accuracy,
    accuracy_multi,
    as_metric,
    error_rate,
    mae,
    metric_name,
    mse,
    rmse,
    top_k_accuracy,
)

skm = pytest.importorskip("sklearn.metrics")


def test_accuracy_and_error_rate_by_hand():
    pred = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0], [0.0, 1.0]])
    targ = torch.tensor([0, 1, 1, 1])
    assert accuracy(pred, targ).item() == pytest.approx(0.75)
    assert error_rate(pred, targ).item() == pytest.approx(0.25)


def test_top_k_accuracy():
    pred = torch.tensor([[0.1, 0.5, 0.4], [0.7, 0.2, 0.1], [0.2, 0.3, 0.5]])
    targ = torch.tensor([2, 2, 0])
    assert top_k_accuracy(pred, targ, k=1).item() == pytest.approx(0.0)
    assert top_k_accuracy(pred, targ, k=2).item() == pytest.approx(1 / 3)
    assert top_k_accuracy(pred, targ, k=3).item() == pytest.approx(1.0)


def test_accuracy_multi():
    logits = torch.tensor([[3.0, -3.0, 0.5], [-1.0, 2.0, -2.0]])
    targ = torch.tensor([[1, 0, 0], [0, 1, 0]])
    assert accuracy_multi(logits, targ).item() == pytest.approx(5 / 6)
    probs = logits.sigmoid()
    assert accuracy_multi(probs, targ, thresh=0.7, sigmoid=False).item() == pytest.approx(1.0)


def test_regression_functions():
    p, t = torch.tensor([1.0, 2.0, 4.0]), torch.tensor([1.0, 3.0, 2.0])
    assert mse(p, t).item() == pytest.approx(5 / 3)
    assert mae(p, t).item() == pytest.approx(1.0)
    assert rmse(p, t).item() == pytest.approx((5 / 3) ** 0.5)


def _feed(metric, preds, targs, bs=7):
    metric.reset()
    for i in range(0, len(targs), bs):
        metric.accumulate(preds[i : i + bs], targs[i : i + bs])
    return metric.value


@pytest.fixture
def multiclass():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(60, 4, generator=g)
    targ = torch.randint(0, 4, (60,), generator=g)
    targ[:5] = 3  # make sure every class appears
    return logits, targ


@pytest.mark.parametrize("average", ["macro", "micro", "weighted"])
@pytest.mark.parametrize("cls, sk", [(F1Score, skm.f1_score), (Precision, skm.precision_score), (Recall, skm.recall_score)])
def test_prf_match_sklearn(multiclass, cls, sk, average):
    logits, targ = multiclass
    want = sk(targ.numpy(), logits.argmax(-1).numpy(), average=average, zero_division=0)
    assert _feed(cls(average=average), logits, targ) == pytest.approx(want)


def test_prf_binary_and_missing_predictions():
    pred = torch.tensor([[1.0, 0.0]] * 6 + [[0.0, 1.0]] * 2)  # class 1 predicted twice
    targ = torch.tensor([0, 0, 1, 1, 1, 0, 2, 1])
    for cls, sk in [(F1Score, skm.f1_score), (Precision, skm.precision_score), (Recall, skm.recall_score)]:
        want = sk(targ.numpy(), pred.argmax(-1).numpy(), average="macro", zero_division=0)
        assert _feed(cls(), pred, targ) == pytest.approx(want)
    t2 = torch.tensor([0, 0, 1, 1, 1, 0, 0, 1])
    want = skm.f1_score(t2.numpy(), pred.argmax(-1).numpy(), average="binary")
    assert _feed(F1Score(average="binary"), pred, t2) == pytest.approx(want)


def test_roc_auc_matches_sklearn(multiclass):
    logits, targ = multiclass
    probs = logits.softmax(-1).numpy()
    want = skm.roc_auc_score(targ.numpy(), probs, multi_class="ovr", average="macro")
    assert _feed(RocAuc(), logits, targ) == pytest.approx(want)
    # binary from one logit, with ties
    scores = torch.tensor([0.1, 0.4, 0.4, 0.8, -1.0, 0.4, 2.0, 0.0])
    t = torch.tensor([0, 1, 0, 1, 0, 1, 1, 0])
    assert _feed(RocAuc(), scores, t, bs=3) == pytest.approx(skm.roc_auc_score(t.numpy(), scores.numpy()))
    two = torch.stack([torch.zeros(8), scores], dim=1)  # softmax of two logits
    assert _feed(RocAuc(), two, t) == pytest.approx(skm.roc_auc_score(t.numpy(), scores.numpy()))


def test_r2_and_rmse_match_sklearn():
    g = torch.Generator().manual_seed(2)
    t = torch.randn(50, generator=g)
    p = t + 0.3 * torch.randn(50, generator=g)
    assert _feed(R2Score(), p, t) == pytest.approx(skm.r2_score(t.numpy(), p.numpy()))
    assert _feed(RMSE(), p, t) == pytest.approx(np.sqrt(skm.mean_squared_error(t.numpy(), p.numpy())), rel=1e-5)
    t2, p2 = torch.randn(40, 3, generator=g), torch.randn(40, 3, generator=g)
    assert _feed(R2Score(), p2, t2) == pytest.approx(skm.r2_score(t2.numpy(), p2.numpy()))


def test_avg_metric_weights_by_batch_size():
    m = AvgMetric(accuracy)
    m.reset()
    m.accumulate(torch.tensor([[1.0, 0.0]] * 3), torch.tensor([0, 0, 0]))  # 3/3 right
    m.accumulate(torch.tensor([[1.0, 0.0]]), torch.tensor([1]))  # 0/1 right
    assert m.value == pytest.approx(0.75)
    assert m.name == "accuracy"
    m.reset()
    assert m.value is None


def test_as_metric_and_names():
    assert isinstance(as_metric(accuracy), AvgMetric)
    assert isinstance(as_metric(F1Score), F1Score)
    f1 = F1Score()
    assert as_metric(f1) is f1
    assert metric_name(functools.partial(accuracy_multi, thresh=0.3)) == "accuracy_multi"
    assert [F1Score().name, Precision().name, Recall().name, RocAuc().name, R2Score().name] == [
        "f1_score", "precision_score", "recall_score", "roc_auc_score", "r2_score"
    ]


def test_learner_reports_plain_and_corpus_metrics(make_learner):
    learn = make_learner(metrics=[accuracy, F1Score(), error_rate])
    learn.fit(1)
    loss, acc, f1, err = learn.validate()
    preds, targs = learn.get_preds()
    assert acc == pytest.approx(accuracy(preds, targs).item(), abs=1e-6)
    assert err == pytest.approx(1 - acc, abs=1e-6)
    assert f1 == pytest.approx(skm.f1_score(targs.numpy(), preds.argmax(-1).numpy(), average="macro"))
    assert learn.recorder.metric_names == ["epoch", "train_loss", "valid_loss", "accuracy", "f1_score", "error_rate", "time"]
    assert len(learn.recorder.values[-1]) == 5
