"""`unet_learner`: a body with the `unet` head for segmentation, normalized and frozen, in a Learner."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graftzoo.errors import ConfigError
from graftzoo.grafting import graft
from graftzoo.learner import Learner
from graftzoo_vision.segmentation import Dice, DiceMulti, ForegroundAccuracy
from graftzoo.data_protocol import dls_attr


def data_img_size(dls: Any) -> list[int] | None:
    """[height, width] of the batches `dls` makes (its `size`), or None when it does not say."""
    size = dls_attr(dls, "size")
    if isinstance(size, int):
        return [size, size]
    if isinstance(size, (tuple, list)) and len(size) == 2:
        return [int(size[0]), int(size[1])]
    return None


def normalize_for_body(dls: Any, stats: Any, n_in: int) -> None:
    """Normalize the data with the body's pretrained `stats` (RGB stats serve one-channel images too)."""
    if stats is not None and hasattr(dls, "normalize") and (len(stats[0]) == n_in or n_in == 1):
        dls.normalize(*stats)


def unet_learner(
    dls: Any,
    arch: str,
    *,
    n_out: int | None = None,
    weights: str | None = "default",
    img_size: int | Sequence[int] | None = None,
    blur: bool = False,
    blur_final: bool = True,
    self_attention: bool = False,
    y_range: Sequence[float] | None = None,
    last_cross: bool = True,
    bottle: bool = False,
    metrics: Any = None,
    normalize: bool = True,
    n_in: int | None = None,
    cut: int | str | None = None,
    **learner_kwargs: Any,
) -> Learner:
    """fastai's `unet_learner`: `arch` cut into a body, DynamicUnet's decoder grafted on.

    `n_out` defaults to the number of codes (`dls.c`); `n_out=1` trains one binary map with binary
    cross-entropy (task `vision/binary_segmentation`), more maps use cross-entropy over pixels.
    `img_size` (sizing the decoder) defaults to the data's size, `n_in` to its channels. The data
    is normalized with the body's stats; a pretrained body starts frozen. Default metrics: Dice
    (foreground vs background, or per class for more than two classes) and foreground accuracy.
    """
    if n_out is None:
        n_out = dls_attr(dls, "c")
    if not n_out:
        raise ConfigError("n_out is not given and the data loaders have no `c` (number of codes): pass n_out=")
    size = img_size if img_size is not None else data_img_size(dls)
    n_in = n_in if n_in is not None else int(getattr(dls, "n_in", 3))
    task = "vision/binary_segmentation" if n_out == 1 else "vision/segmentation"
    model = graft(
        arch, "unet", n_out=n_out, weights=weights, n_in=n_in, cut=cut, task=task,
        img_size=[size, size] if isinstance(size, int) else (list(size) if size is not None else None),
        blur=blur, blur_final=blur_final, self_attention=self_attention,
        y_range=list(y_range) if y_range is not None else None, last_cross=last_cross, bottle=bottle,
    )
    model.vocab = list(dls_attr(dls, "vocab") or []) or None
    if normalize:
        normalize_for_body(dls, model.body.stats, n_in)
    if metrics is None:
        metrics = [Dice(), ForegroundAccuracy()] if n_out <= 2 else [DiceMulti(), ForegroundAccuracy()]
    learn = Learner(dls, model, metrics=metrics, **learner_kwargs)
    if model.body.weights is not None:
        learn.freeze()
    return learn
