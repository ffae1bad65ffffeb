"""`tta`: predictions averaged over the data's train-time augmentation, blended with plain ones (fastai's)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from graftzoo.data_protocol import dls_attr
from graftzoo.errors import ConfigError

if TYPE_CHECKING:
    from graftzoo.learner.learner import Learner

__all__ = ["TrainAugmented", "tta"]


class TrainAugmented:
    """A view of `dls` whose `batch_transform` always applies the training (augmenting) transform.

    When the data's `batch_transform` takes a `gen` (a torch.Generator to draw from), the draws come
    from `gen`, so the loaders' own seeded stream, and the training that follows, is left alone.
    """

    def __init__(self, dls: Any, gen: torch.Generator | None = None) -> None:
        self.dls = dls
        self.gen = gen if gen is not None and "gen" in inspect.signature(dls.batch_transform).parameters else None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["dls"], name)

    def batch_transform(self, batch: Sequence[Any], train: bool) -> Sequence[Any]:
        if self.gen is None:
            return self.dls.batch_transform(batch, True)
        return self.dls.batch_transform(batch, True, gen=self.gen)


@contextmanager
def _augmenting(learn: Learner, seed: int) -> Iterator[None]:
    dls = learn.dls
    learn.dls = TrainAugmented(dls, torch.Generator().manual_seed(seed))
    try:
        yield
    finally:
        learn.dls = dls


def tta(
    self: Learner, dl: Any = None, n: int = 4, beta: float | None = 0.25, use_max: bool = False, seed: int = 0,
) -> tuple[Any, Tensor]:
    """`(preds, targets)` with test-time augmentation over `dl` (default: the validation set; it must not shuffle).

    The (activated) predictions of `n` passes with the data's train-time augmentation
    (`dls.batch_transform(batch, train=True)`: for images, random crop, flip, rotation, zoom and
    lighting) are averaged (`use_max`: their element-wise max) into `aug`, then blended with the
    plain predictions: `torch.lerp(aug, plain, beta)` = `(1 - beta) * aug + beta * plain`;
    `use_max` gives `max(aug, plain)`; `beta=None` gives `((aug, plain), targets)`.
    Vision items are presized to the validation size, so the crops come from that square. The
    augmentations are drawn from a stream seeded with `seed` when the data's `batch_transform`
    takes a `gen`: the same call gives the same result, and the training stream is left alone.
    """
    if dls_attr(self.dls, "batch_transform") is None:
        raise ConfigError(
            "tta() needs data with a train-time augmentation: dls.batch_transform(batch, train) "
            "(ImageDataLoaders has one); these data have none."
        )
    if n < 1:
        raise ConfigError(f"tta: n is the number of augmented passes and must be at least 1, got {n}.")
    if dl is None:
        dl = dls_attr(self.dls, "valid")
    with _augmenting(self, seed):
        runs = [self.get_preds(dl=dl) for _ in range(n)]
    preds, targs = self.get_preds(dl=dl)
    if not all(_same(t, targs) for _, t in runs):
        raise ConfigError(
            "tta: the train-time batch transform changed the targets (a geometric augmentation of masks, or a "
            "shuffling loader), so augmented predictions cannot be averaged item by item. Pass a dl that does not "
            "shuffle; for targets that move with the image (segmentation), TTA is not available."
        )
    passes = torch.stack([p for p, _ in runs])
    aug = passes.max(0)[0] if use_max else passes.mean(0)
    if use_max:
        return torch.stack([preds, aug]).max(0)[0], targs
    if beta is None:
        return (aug, preds), targs
    return torch.lerp(aug, preds, beta), targs


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return a.shape == b.shape and bool(torch.equal(a, b))
    return bool(a == b)
