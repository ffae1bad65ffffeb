"""Multi-label F-beta: `fbeta_multi` (per batch) and `FBetaMulti` / `F1ScoreMulti` (whole set)."""

from __future__ import annotations

import pytest
import torch

from graftzoo.errors import ConfigError
from graftzoo.metrics import F1ScoreMulti, FBetaMulti, fbeta_multi

TARG = torch.tensor([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 0]])
PROBS = torch.tensor([[0.9, 0.1, 0.2], [0.1, 0.8, 0.7], [0.6, 0.9, 0.1], [0.2, 0.3, 0.4]])  # > 0.5: [[1,0,0],[0,1,1],[1,1,0],[0,0,0]]


def _value(metric: FBetaMulti, batches: int = 2) -> float | None:
    metric.reset()
    for p, t in zip(PROBS.chunk(batches), TARG.chunk(batches)):
        metric.accumulate(p, t)
    return metric.value


def test_f1_multi_by_hand() -> None:
    # per class: tp 2/2/0, predicted 2/2/1, true 2/2/1 -> F1 1, 1, 0
    assert _value(F1ScoreMulti(sigmoid=False)) == pytest.approx(2 / 3)
    assert _value(F1ScoreMulti(sigmoid=False, average="micro")) == pytest.approx(2 * 4 / (5 + 5))
    assert _value(F1ScoreMulti(sigmoid=False, average="weighted")) == pytest.approx((2 + 2 + 0) / 5)
    # per item: 2/3, 2/3, 1, and 0 for the item with neither a prediction nor a tag
    assert _value(F1ScoreMulti(sigmoid=False, average="samples")) == pytest.approx((2 / 3 + 2 / 3 + 1 + 0) / 4)


def test_f2_multi_by_hand_and_the_batch_function() -> None:
    per_item = [5 * 1 / (4 * 2 + 1), 5 * 1 / (4 * 1 + 2), 1.0, 0.0]  # (1 + b2) tp / (b2 true + predicted)
    assert _value(FBetaMulti(beta=2, sigmoid=False, average="samples"), batches=4) == pytest.approx(sum(per_item) / 4)
    assert fbeta_multi(PROBS, TARG, beta=2, sigmoid=False).item() == pytest.approx(sum(per_item) / 4)
    logits = torch.logit(PROBS)
    assert fbeta_multi(logits, TARG, beta=2).item() == pytest.approx(sum(per_item) / 4)  # sigmoid by default
    assert F1ScoreMulti().name == "f1_score" and FBetaMulti().name == "fbeta_score"


def test_matches_sklearn_on_random_data() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    gen = torch.Generator().manual_seed(0)
    targ = (torch.rand(50, 6, generator=gen) > 0.6).long()
    logits = torch.randn(50, 6, generator=gen)
    for average in ("macro", "micro", "weighted", "samples"):
        m = FBetaMulti(beta=0.5, average=average)
        m.accumulate(logits, targ)
        expected = metrics.fbeta_score(targ.numpy(), (logits.sigmoid() > 0.5).long().numpy(), beta=0.5, average=average, zero_division=0)
        assert m.value == pytest.approx(expected), average


def test_bad_average_and_shapes() -> None:
    with pytest.raises(ConfigError, match="average='binary' is not one of"):
        FBetaMulti(average="binary")
    with pytest.raises(ConfigError, match="multi-hot targets"):
        fbeta_multi(torch.zeros(4, 3), torch.zeros(4))
