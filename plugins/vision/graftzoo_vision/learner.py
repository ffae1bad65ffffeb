"""`vision_learner`: a pretrained body with a classify head, normalized and frozen, in a Learner."""

from __future__ import annotations

from typing import Any, Sequence

from graftzoo.grafting import graft
from graftzoo.learner import Learner
from graftzoo.data_protocol import dls_attr


def vision_learner(
    dls: Any,
    arch: str,
    *,
    weights: str | None = "default",
    n_out: int | None = None,
    normalize: bool = True,
    n_in: int | None = None,
    cut: int | str | None = None,
    lin_ftrs: Sequence[int] | None = None,
    ps: float | Sequence[float] = 0.5,
    concat_pool: bool = True,
    first_bn: bool = True,
    bn_final: bool = False,
    lin_first: bool = False,
    y_range: Sequence[float] | None = None,
    metrics: Any = None,
    task: str | None = None,
    **learner_kwargs: Any,
) -> Learner:
    """fastai's `vision_learner`, except that `cut` is honoured (fastai issue 4027).

    `weights="default"` takes the arch's default pretrained weights (None: random); a pretrained
    body starts frozen. `n_in` defaults to the data's channels (`dls.n_in`), so grayscale folders
    get a one-channel body. With `normalize`, the data is normalized with the body's stats (one
    channel: their average, matching the summed RGB kernels; skipped for other channel counts).
    The saved head records exactly the preprocessing the data applied (`dls.preprocessor`).

    `task` (a registered task: `core/classification`, `core/multilabel`, `core/regression`, ...)
    defaults to the data's (`dls.task`: what its labels are), so multi-label and regression data
    get their loss (BCE, MSE), default metrics (multi-label: `accuracy_multi` and `F1ScoreMulti()`;
    regression: `rmse`) and decoding without naming it.
    """
    task = _resolve_task(task, dls)
    if n_in is None:
        n_in = int(dls_attr(dls, "n_in") or 3)
    if n_out is None:
        n_out = dls_attr(dls, "c")
    if not n_out:
        from graftzoo.errors import ConfigError

        raise ConfigError("n_out is not given and the data loaders have no `c` (number of classes): pass n_out=")
    head_kwargs: dict[str, Any] = {
        "lin_ftrs": list(lin_ftrs) if lin_ftrs is not None else None,
        "ps": list(ps) if isinstance(ps, (list, tuple)) else ps,
        "concat_pool": concat_pool,
        "first_bn": first_bn,
        "bn_final": bn_final,
        "lin_first": lin_first,
        "y_range": list(y_range) if y_range is not None else None,
    }
    model = graft(arch, "classify", n_out=n_out, weights=weights, n_in=n_in, cut=cut, task=task, head_kwargs=head_kwargs)
    model.vocab = list(dls_attr(dls, "vocab") or []) or None
    stats = model.body.stats
    if normalize and stats is not None and (len(stats[0]) == n_in or n_in == 1) and hasattr(dls, "normalize"):
        dls.normalize(*stats)
    if metrics is None and model.config["task"] == "core/multilabel":
        from graftzoo.metrics import F1ScoreMulti, accuracy_multi

        metrics = [accuracy_multi, F1ScoreMulti()]  # fastai's multi-label pair: per-label accuracy and F1
    learn = Learner(dls, model, metrics=metrics, **learner_kwargs)
    if model.body.weights is not None:
        learn.freeze()
    return learn


def _resolve_task(task: str | None, dls: Any) -> str | None:
    """The full name of `task` (or of the data's task), checked against what the data's targets are."""
    from graftzoo.errors import ConfigError
    from graftzoo.registry import current

    data_task = getattr(dls, "task", None)
    data_task = data_task if isinstance(data_task, str) else None
    if task is None:
        return data_task
    full = current().get("tasks", task).name
    if data_task is not None and full != data_task:
        raise ConfigError(
            f"task={task!r} does not fit the data: its targets are for {data_task!r}. Build the data for "
            f"that task (y_block='category', 'multi_category' or 'regression') or drop task=."
        )
    return full
