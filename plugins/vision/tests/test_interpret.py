"""Tests for ClassificationInterpretation on a known confusion and on a real tiny learner."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from graftzoo.errors import ConfigError
from graftzoo_vision.interpret import ClassificationInterpretation

VOCAB = ["a", "b", "c"]
# (actual, predicted, probability of the prediction): 'b' is predicted 'c' four times
ITEMS = [
    (0, 0, 0.90), (0, 0, 0.80), (0, 0, 0.70), (0, 0, 0.95), (0, 0, 0.60),
    (1, 1, 0.85), (1, 1, 0.55), (1, 2, 0.90), (1, 2, 0.75), (1, 2, 0.65), (1, 2, 0.50),
    (2, 2, 0.88), (2, 2, 0.77), (2, 2, 0.66), (2, 0, 0.80), (2, 1, 0.58),
]
EXPECTED_CM = [[5, 0, 0], [0, 2, 4], [1, 1, 3]]


def _crafted() -> tuple[torch.Tensor, torch.Tensor]:
    """Probabilities: the prediction gets p, the other two share 1 - p (the actual one gets 2/3 of it)."""
    probs = torch.zeros(len(ITEMS), 3)
    for i, (actual, pred, p) in enumerate(ITEMS):
        probs[i, pred] = p
        others = [c for c in range(3) if c != pred]
        first = actual if actual != pred else others[0]
        second = [c for c in others if c != first][0]
        probs[i, first], probs[i, second] = (1 - p) * 2 / 3, (1 - p) / 3
    return probs, torch.tensor([a for a, _, _ in ITEMS])


class FakeLearner:
    """Learner-like: get_preds gives the crafted (probs, targets), optionally losses too."""

    def __init__(
        self, loss_func: Any = None, losses: torch.Tensor | None = None, dl: Any = None, dls_extra: Any = None
    ) -> None:
        self.probs, self.targets = _crafted()
        self.loss_func = loss_func if loss_func is not None else nn.CrossEntropyLoss()
        self.losses = losses
        self.dls = SimpleNamespace(vocab=VOCAB, valid=dl, **(dls_extra or {}))
        self.seen_dl: Any = "unset"

    def get_preds(self, dl: Any = None, with_loss: bool = False) -> tuple[torch.Tensor, ...]:
        self.seen_dl = dl
        if with_loss and self.losses is not None:
            return self.probs, self.targets, self.losses
        if with_loss:
            raise ConfigError("no reduction")
        return self.probs, self.targets


def _hand_losses() -> torch.Tensor:
    probs, targets = _crafted()
    return -probs[torch.arange(len(targets)), targets].log()


# ---- the known confusion --------------------------------------------------------------------------
def test_confusion_matrix_matches_hand_count_and_sklearn() -> None:
    interp = ClassificationInterpretation.from_learner(FakeLearner())
    cm = interp.confusion_matrix()
    assert cm.tolist() == EXPECTED_CM
    assert interp.decoded.tolist() == [p for _, p, _ in ITEMS]
    assert interp.vocab == VOCAB
    metrics = pytest.importorskip("sklearn.metrics")
    assert cm.tolist() == metrics.confusion_matrix(interp.targets, interp.decoded, labels=[0, 1, 2]).tolist()


def test_most_confused_order_and_min_val() -> None:
    interp = ClassificationInterpretation.from_learner(FakeLearner())
    assert interp.most_confused() == [("b", "c", 4), ("c", "a", 1), ("c", "b", 1)]
    assert interp.most_confused(min_val=2) == [("b", "c", 4)]
    assert interp.most_confused(min_val=5) == []


def test_losses_use_the_learners_loss_with_no_reduction() -> None:
    learn = FakeLearner()
    interp = ClassificationInterpretation.from_learner(learn)
    assert torch.allclose(interp.losses, _hand_losses(), atol=1e-6)
    assert learn.loss_func.reduction == "mean"  # the learner's loss is left alone


def test_losses_from_get_preds_are_used_as_given() -> None:
    given = torch.arange(len(ITEMS), dtype=torch.float32)
    interp = ClassificationInterpretation.from_learner(FakeLearner(losses=given))
    assert torch.equal(interp.losses, given)


def test_loss_without_reduction_falls_back_to_cross_entropy() -> None:
    def plain_loss(pred: torch.Tensor, targ: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(pred, targ) * 100  # no `reduction` attribute

    interp = ClassificationInterpretation.from_learner(FakeLearner(loss_func=plain_loss))
    assert torch.allclose(interp.losses, _hand_losses(), atol=1e-6)


def test_label_smoothing_loss_is_honoured() -> None:
    probs, targets = _crafted()
    interp = ClassificationInterpretation.from_learner(FakeLearner(loss_func=nn.CrossEntropyLoss(label_smoothing=0.1)))
    expected = F.cross_entropy(probs.log(), targets, label_smoothing=0.1, reduction="none")
    assert torch.allclose(interp.losses, expected, atol=1e-6)


def test_top_losses_against_hand_computation() -> None:
    interp = ClassificationInterpretation.from_learner(FakeLearner())
    hand = _hand_losses()
    # the largest: wrong predictions with the most confidence: p=0.90 (b->c), then 0.80 (c->a), then 0.75
    losses, idx = interp.top_losses(3)
    assert idx.tolist() == [7, 14, 8]
    assert torch.allclose(losses, hand[[7, 14, 8]])
    losses, idx = interp.top_losses(2, largest=False)
    assert idx.tolist() == [3, 0]  # the most confident right predictions (0.95, 0.90)
    losses, idx = interp.top_losses()
    assert len(idx) == len(ITEMS) and torch.all(losses[:-1] >= losses[1:])


def test_from_learner_uses_the_given_dl_or_the_valid_one() -> None:
    learn = FakeLearner(dl="valid-loader")
    interp = ClassificationInterpretation.from_learner(learn)
    assert learn.seen_dl == "valid-loader" and interp.dl == "valid-loader"
    ClassificationInterpretation.from_learner(learn, dl="other")
    assert learn.seen_dl == "other"


def test_mismatched_vocab_is_explained() -> None:
    probs, targets = _crafted()
    with pytest.raises(ConfigError, match="vocab has 2 classes"):
        ClassificationInterpretation(probs, targets, _hand_losses(), vocab=["a", "b"])


# ---- plots ----------------------------------------------------------------------------------------
def _is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_confusion_matrix_writes_pngs(tmp_path: Path) -> None:
    interp = ClassificationInterpretation.from_learner(FakeLearner())
    out = interp.plot_confusion_matrix(tmp_path / "cm.png")
    assert out == tmp_path / "cm.png" and _is_png(out)
    assert _is_png(interp.plot_confusion_matrix(tmp_path / "deep" / "cmn.png", normalize=True, title="Normalized"))


def test_plot_top_losses_with_a_plain_dataloader(tmp_path: Path) -> None:
    images = torch.randn(len(ITEMS), 3, 16, 16) * 5  # not in [0, 1]: min-max scaled for display
    dl = DataLoader(TensorDataset(images, _crafted()[1]), batch_size=4, shuffle=False)
    interp = ClassificationInterpretation.from_learner(FakeLearner(dl=dl))
    shown = interp._images([7, 14])
    assert shown.shape == (2, 3, 16, 16) and shown.min() >= 0 and shown.max() <= 1
    assert _is_png(interp.plot_top_losses(4, tmp_path / "top.png"))


def test_plot_top_losses_un_normalizes_with_dls_stats() -> None:
    mean, std = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)
    raw = torch.rand(len(ITEMS), 3, 8, 8)
    dl = DataLoader(TensorDataset((raw - 0.5) / 0.25, _crafted()[1]), batch_size=4)
    interp = ClassificationInterpretation.from_learner(FakeLearner(dl=dl, dls_extra={"stats": (mean, std)}))
    assert torch.allclose(interp._images([3, 5]), raw[[3, 5]], atol=1e-6)


def test_plot_top_losses_refuses_a_shuffled_loader() -> None:
    dl = DataLoader(TensorDataset(torch.rand(len(ITEMS), 3, 8, 8), _crafted()[1]), batch_size=4, shuffle=True)
    interp = ClassificationInterpretation.from_learner(FakeLearner(dl=dl))
    with pytest.raises(ConfigError, match="does not shuffle"):
        interp.plot_top_losses(3)


# ---- a real learner -------------------------------------------------------------------------------
def test_real_learner_end_to_end(tmp_path: Path) -> None:
    import graftzoo
    from graftzoo.learner import Learner
    from graftzoo_vision.data import IMAGENET_STATS, ImageDataLoaders

    torch.manual_seed(0)
    images = torch.randint(0, 256, (20, 3, 32, 32), dtype=torch.uint8)
    labels = [i % 3 for i in range(20)]
    dls = ImageDataLoaders.from_tensors(images, labels, vocab=VOCAB, valid_pct=0.5, seed=0, bs=4, device="cpu")
    dls.normalize(*IMAGENET_STATS)
    model = graftzoo.graft("vision/xresnet18", "classify", n_out=3)
    learn = Learner(dls, model, quiet=True, device="cpu")
    interp = ClassificationInterpretation.from_learner(learn)

    n = len(dls.valid_ds)
    assert interp.probs.shape == (n, 3) and interp.losses.shape == (n,)
    assert int(interp.confusion_matrix().sum()) == n
    # losses agree with cross-entropy on the model's own logits, batch by batch in the valid order
    model.eval()
    xs, ys = zip(*(dls.batch_transform(b, False) for b in dls.valid))
    with torch.no_grad():
        logits = model(torch.cat(xs))
    assert torch.equal(interp.targets, torch.cat(ys))
    assert torch.allclose(interp.losses, F.cross_entropy(logits, torch.cat(ys), reduction="none"), atol=1e-4)
    assert torch.allclose(interp._images([0]), dls.denormalize(xs[0][:1]), atol=1e-5)
    assert _is_png(interp.plot_top_losses(4, tmp_path / "top.png"))
    assert _is_png(interp.plot_confusion_matrix(tmp_path / "cm.png"))


def test_interpretation_of_multilabel_and_regression_learners(tmp_path: Path) -> None:
    from graftzoo_vision import ImageDataLoaders, Interpretation, vision_learner

    torch.manual_seed(0)
    images = torch.randint(0, 256, (12, 3, 32, 32), dtype=torch.uint8)
    tags = torch.tensor([[i % 2, (i // 2) % 2, 1 - i % 2] for i in range(12)], dtype=torch.float32)
    dls = ImageDataLoaders.from_tensors(images, tags, vocab=["dots", "frame", "stripes"], valid_pct=0.5, seed=0, bs=4,
                                        augment=False, device="cpu")
    learn = vision_learner(dls, "timm/test_convnext", weights=None, quiet=True)
    interp = Interpretation.from_learner(learn)
    probs, targets = learn.get_preds()
    per_item = F.binary_cross_entropy(probs, targets, reduction="none").mean(dim=1)
    assert torch.allclose(interp.losses, per_item, atol=1e-4) and torch.equal(interp.decoded, probs > 0.5)
    worst = int(interp.top_losses(1)[1][0])
    assert interp.label(interp.targets[worst]) == (";".join(t for t, on in zip(dls.vocab, targets[worst]) if on) or "-")
    assert interp.label(interp.decoded[worst]) == (";".join(t for t, p in zip(dls.vocab, probs[worst]) if p > 0.5) or "-")
    assert _is_png(interp.plot_top_losses(4, tmp_path / "tags.png"))
    with pytest.raises(ConfigError, match="use Interpretation.from_learner"):
        ClassificationInterpretation.from_learner(learn)

    values = torch.linspace(0.0, 1.0, 12)
    reg = vision_learner(ImageDataLoaders.from_tensors(images, values, valid_pct=0.5, seed=0, bs=4, augment=False,
                                                       device="cpu"), "timm/test_convnext", weights=None, quiet=True)
    interp = Interpretation.from_learner(reg)
    preds, targets = reg.get_preds()
    assert torch.allclose(interp.losses, ((preds - targets) ** 2).reshape(len(preds), -1).mean(dim=1), atol=1e-5)
    assert interp.label(interp.decoded[0]) == f"{float(preds[0].reshape(-1)[0]):.3g}"
    assert _is_png(interp.plot_top_losses(3, tmp_path / "values.png"))
