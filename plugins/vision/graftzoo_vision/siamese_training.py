"""`siamese_learner`: one pretrained encoder on both images of a pair, a classify head over both."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graftzoo.grafting import graft
from graftzoo.learner import Learner
from graftzoo_vision.unet_training import normalize_for_body
from graftzoo.data_protocol import dls_attr


def siamese_learner(
    dls: Any,
    arch: str,
    *,
    weights: str | None = "default",
    n_out: int = 2,
    metrics: Any = None,
    normalize: bool = True,
    n_in: int | None = None,
    cut: int | str | None = None,
    lin_ftrs: Sequence[int] | None = None,
    ps: float | Sequence[float] = 0.5,
    concat_pool: bool = True,
    **learner_kwargs: Any,
) -> Learner:
    """Seed 001's Siamese model as a Learner: `graft(arch, "siamese")` (the body applied to both images,
    features concatenated, fastai's head over `nf * 2`), split into encoder and head.

    `n_in` defaults to the data's channels; the data is normalized with the body's stats; a
    pretrained body starts frozen (train the head, then `unfreeze()` and fine-tune). Metrics
    default to the task's accuracy on same/different.
    """
    n_in = n_in if n_in is not None else int(getattr(dls, "n_in", 3))
    model = graft(
        arch, "siamese", n_out=n_out, weights=weights, n_in=n_in, cut=cut,
        lin_ftrs=list(lin_ftrs) if lin_ftrs is not None else None,
        ps=list(ps) if isinstance(ps, (list, tuple)) else ps, concat_pool=concat_pool,
    )
    model.vocab = list(dls_attr(dls, "vocab") or []) or None
    if normalize:
        normalize_for_body(dls, model.body.stats, n_in)
    learn = Learner(dls, model, metrics=metrics, **learner_kwargs)
    if model.body.weights is not None:
        learn.freeze()
    return learn
