"""Segmentation metrics against hand computations and sklearn, over whole sets; tasks and losses."""

from __future__ import annotations

import pytest
import torch
from sklearn.metrics import f1_score, jaccard_score
from torch import nn

from graftzoo.errors import ConfigError
from graftzoo.metrics import as_metric
from graftzoo_vision.segmentation import (
    BCEMaskLoss,
    BinarySegmentationTask,
    Dice,
    DiceMulti,
    ForegroundAccuracy,
    MeanIoU,
    SegmentationTask,
    mask_classes,
)


def logits_for(classes: torch.Tensor, n: int) -> torch.Tensor:
    """Logits (B, n, H, W) whose argmax is `classes` (B, H, W)."""
    return nn.functional.one_hot(classes, n).permute(0, 3, 1, 2).float() * 5


def run(metric: object, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> float | None:
    m = as_metric(metric)
    m.reset()
    for pred, targ in batches:
        m.accumulate(pred, targ)
    return m.value


# one 2x3 image: target has 3 foreground pixels, the prediction hits 2 of them and adds 1 false positive
TARG = torch.tensor([[[0, 1, 1], [0, 1, 0]]])
PRED = torch.tensor([[[0, 1, 1], [1, 0, 0]]])


def test_binary_metrics_by_hand() -> None:
    batch = [(logits_for(PRED, 2), TARG)]
    assert run(Dice(), batch) == pytest.approx(2 * 2 / (3 + 3))
    assert run(ForegroundAccuracy(), batch) == pytest.approx(2 / 3)
    # background: inter 2 (pixels (0,0), (1,2)), union 4; foreground: inter 2, union 4
    assert run(MeanIoU(), batch) == pytest.approx((2 / 4 + 2 / 4) / 2)
    assert run(DiceMulti(), batch) == pytest.approx((2 * 2 / 6 + 2 * 2 / 6) / 2)


def test_one_output_map_is_thresholded_at_logit_zero() -> None:
    single = torch.where(PRED.bool(), 3.0, -3.0)[:, None].float()
    assert torch.equal(mask_classes(single), PRED)
    assert run(Dice(), [(single, TARG)]) == pytest.approx(2 / 3)


def test_multiclass_metrics_match_sklearn_over_the_whole_set() -> None:
    gen = torch.Generator().manual_seed(0)
    targs = [torch.randint(0, 4, (3, 8, 8), generator=gen) for _ in range(3)]
    preds = [torch.where(torch.rand(t.shape, generator=gen) < 0.6, t, torch.randint(0, 4, t.shape, generator=gen)) for t in targs]
    batches = [(logits_for(p, 4), t) for p, t in zip(preds, targs)]
    y_true, y_pred = torch.cat([t.flatten() for t in targs]), torch.cat([p.flatten() for p in preds])
    assert run(MeanIoU(), batches) == pytest.approx(jaccard_score(y_true, y_pred, average="macro"))
    assert run(DiceMulti(), batches) == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    fg = y_true != 0
    assert run(ForegroundAccuracy(), batches) == pytest.approx(float((y_pred[fg] == y_true[fg]).float().mean()))
    both_fg = ((y_pred != 0) & fg).sum()
    assert run(Dice(), batches) == pytest.approx(float(2 * both_fg / ((y_pred != 0).sum() + fg.sum())))


def test_whole_set_value_is_not_an_average_of_batches() -> None:
    small = (logits_for(torch.tensor([[[1, 0]]]), 2), torch.tensor([[[1, 1]]]))  # dice 2/3
    big = (logits_for(torch.ones(1, 4, 4, dtype=torch.long), 2), torch.ones(1, 4, 4, dtype=torch.long))  # dice 1
    assert run(Dice(), [small, big]) == pytest.approx(2 * 17 / (17 + 18))
    assert run(Dice(), [small, big]) != pytest.approx((2 / 3 + 1) / 2)


def test_ignore_index_and_empty_cases() -> None:
    targ = torch.tensor([[[1, 255], [0, 255]]])
    pred = logits_for(torch.tensor([[[1, 1], [0, 0]]]), 2)
    assert run(Dice(ignore_index=255), [(pred, targ)]) == pytest.approx(1.0)
    assert run(MeanIoU(ignore_index=255), [(pred, targ)]) == pytest.approx(1.0)
    background = torch.zeros(1, 2, 2, dtype=torch.long)
    assert run(Dice(), [(logits_for(background, 2), background)]) is None
    assert run(ForegroundAccuracy(), [(logits_for(background, 2), background)]) is None
    assert run(MeanIoU(), []) is None


def test_shape_mismatch_is_explained() -> None:
    with pytest.raises(ConfigError, match="spatial size"):
        run(Dice(), [(torch.zeros(1, 2, 4, 4), torch.zeros(1, 3, 3, dtype=torch.long))])


def test_segmentation_task_on_batches_and_single_items() -> None:
    task = SegmentationTask()
    logits = torch.randn(2, 3, 5, 6)
    targ = torch.randint(0, 3, (2, 5, 6))
    assert task.loss_func()(logits, targ).item() == pytest.approx(nn.functional.cross_entropy(logits, targ).item())
    probs = task.activation(logits)
    assert torch.allclose(probs.sum(1), torch.ones(2, 5, 6))
    assert torch.equal(task.decode(probs), logits.argmax(1))
    assert torch.equal(task.decode(task.activation(logits[0])), logits[0].argmax(0))  # one item (C, H, W)
    assert torch.equal(task.decode_labels(task.decode(probs[0]), ["a", "b", "c"]), logits[0].argmax(0))


def test_binary_task_uses_bce_on_one_map() -> None:
    task = BinarySegmentationTask()
    logits = torch.randn(2, 1, 4, 4)
    targ = torch.randint(0, 2, (2, 4, 4))
    expected = nn.functional.binary_cross_entropy_with_logits(logits[:, 0], targ.float())
    assert task.loss_func()(logits, targ).item() == pytest.approx(expected.item())
    assert torch.equal(task.decode(task.activation(logits)), (logits[:, 0] > 0).long())
    assert type(task.metrics()[0]) is Dice
    unreduced = BCEMaskLoss(reduction="none")(logits, targ)
    assert unreduced.shape == (2, 4, 4)
    with pytest.raises(ConfigError, match="n_out=1"):
        BCEMaskLoss()(torch.randn(2, 3, 4, 4), targ)
