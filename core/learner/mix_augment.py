"""MixUp and CutMix callbacks on torchvision.transforms.v2's MixUp and CutMix."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from graftzoo.data_protocol import dls_attr
from graftzoo.errors import ConfigError
from graftzoo.learner.callback import Callback

__all__ = ["CutMix", "MixHandler", "MixUp"]


class MixHandler(Callback):
    """Mixes every training batch with its neighbour (`torch.roll` by one) through a v2 transform.

    The images (every 4-d input) are mixed, and the loss sees the mixed soft targets: class
    probabilities (N, C) equal to `lam * onehot(y) + (1 - lam) * onehot(y.roll(1))`, so it must
    accept probabilities (nn.CrossEntropyLoss, LabelSmoothingCrossEntropy do). For cross-entropy
    that is fastai's `lam * loss(y) + (1 - lam) * loss(y_rolled)`. After the loss, `learn.yb`
    holds the original hard labels again, for every later callback and metric. Validation is
    never mixed. `lam` is the last batch's weight of the original images; `params` what the
    transform drew. Unlike fastai (one lambda per sample), torchvision draws one per batch, and
    pairs neighbours instead of a random permutation: shuffle the training data.
    """

    order = -2  # after NanGuard's copy of the buffers, before everything else sees the batch
    run_valid = False
    lam_key = "lam"

    def __init__(self, alpha: float, num_classes: int | None = None) -> None:
        if alpha <= 0:
            raise ConfigError(f"{type(self).__name__}: alpha must be > 0 (the Beta(alpha, alpha) parameter), got {alpha}.")
        self.alpha, self.num_classes = float(alpha), num_classes
        self.lam: float | None = None
        self.params: dict[str, Any] = {}
        self._tfm: Any = None
        self._hard: tuple[Any, ...] = ()

    def make_transform(self, num_classes: int) -> Any:
        """The torchvision v2 transform (MixUp or CutMix)."""
        raise NotImplementedError

    def before_fit(self) -> None:
        n = self.num_classes or dls_attr(self.learn.dls, "c")
        if n is None and dls_attr(self.learn.dls, "vocab") is not None:
            n = len(dls_attr(self.learn.dls, "vocab"))
        if not n:
            raise ConfigError(
                f"{type(self).__name__} needs the number of classes: the data has no `c` or `vocab`; "
                f"pass {type(self).__name__}(num_classes=...)."
            )
        self._tfm = self.make_transform(int(n))
        self._check_loss(int(n))

    def _check_loss(self, n: int) -> None:
        """Fail before training when the loss cannot take class probabilities as targets."""
        import torch

        probs = torch.full((2, n), 1.0 / n, device=self.learn.device)
        try:
            self.learn.loss_func(torch.zeros(2, n, device=self.learn.device), probs)
        except (RuntimeError, ValueError, TypeError, IndexError) as exc:
            raise ConfigError(
                f"{type(self).__name__} trains on soft targets (class probabilities) and this loss cannot take them "
                f"({type(exc).__name__}: {exc}). Use nn.CrossEntropyLoss() or LabelSmoothingCrossEntropy()."
            ) from exc

    def before_batch(self) -> None:
        learn = self.learn
        y = learn.yb[0]
        if not isinstance(y, Tensor) or y.ndim != 1 or y.is_floating_point():
            raise ConfigError(
                f"{type(self).__name__} mixes single-label classification batches: the target must be one class "
                f"index per sample, got {getattr(y, 'dtype', type(y).__name__)} of shape {tuple(getattr(y, 'shape', ()))}."
            )
        images = [i for i, x in enumerate(learn.xb) if isinstance(x, Tensor) and x.ndim == 4]
        if not images:
            raise ConfigError(
                f"{type(self).__name__} mixes images (B, C, H, W), as torchvision's does; this batch has no 4-d input."
            )
        self.params = {"labels": y, "batch_size": y.shape[0], **self._tfm.make_params([learn.xb[images[0]]])}
        self.lam = float(self.params[self.lam_key])
        xb = list(learn.xb)
        for i in images:
            xb[i] = self._tfm.transform(xb[i], self.params)
        self._hard = learn.yb
        learn.xb, learn.yb = tuple(xb), (self._tfm.transform(y, self.params), *learn.yb[1:])

    def after_loss(self) -> None:
        self.learn.yb = self._hard  # metrics and later callbacks see the original hard labels

    def __repr__(self) -> str:
        return f"{type(self).__name__}(alpha={self.alpha})"


class MixUp(MixHandler):
    """fastai's MixUp: images `lam * x + (1 - lam) * x.roll(1)`, lam ~ Beta(alpha, alpha) (torchvision v2.MixUp)."""

    def __init__(self, alpha: float = 0.4, num_classes: int | None = None) -> None:
        super().__init__(alpha, num_classes)

    def make_transform(self, num_classes: int) -> Any:
        from torchvision.transforms import v2

        return v2.MixUp(alpha=self.alpha, num_classes=num_classes)


class CutMix(MixHandler):
    """fastai's CutMix: a box of `x.roll(1)` pasted into each image; lam is the area kept (torchvision v2.CutMix)."""

    lam_key = "lam_adjusted"

    def __init__(self, alpha: float = 1.0, num_classes: int | None = None) -> None:
        super().__init__(alpha, num_classes)

    def make_transform(self, num_classes: int) -> Any:
        from torchvision.transforms import v2

        return v2.CutMix(alpha=self.alpha, num_classes=num_classes)
