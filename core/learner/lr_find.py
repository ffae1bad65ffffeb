"""The learning-rate finder: LRFinder callback, fastai's suggestion rules, `lr_find`."""

from __future__ import annotations

import copy
import math
from collections import namedtuple
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from graftzoo.errors import ConfigError, TrainingError
from graftzoo.learner.callback import Callback, CancelFitException, CancelValidException
from graftzoo.learner.hypers import set_hyper
from graftzoo.learner.nan_guard import NanGuard
from graftzoo.learner.plotting import new_axes, save_figure
from graftzoo.learner.schedule import sched_exp

if TYPE_CHECKING:
    from graftzoo.learner.learner import Learner

__all__ = [
    "LRFinder", "SUGGESTIONS", "finder_curve", "lr_find", "lr_find_figure", "minimum", "plot_lr_find", "slide",
    "steep", "suggest", "valley",
]

Suggestion = Callable[[np.ndarray, np.ndarray, int], tuple[float, tuple[float, float]]]


def valley(lrs: np.ndarray, losses: np.ndarray, num_it: int) -> tuple[float, tuple[float, float]]:
    """fastai's valley: 2/3 of the way down the longest decreasing stretch of the loss."""
    n = len(losses)
    max_start, max_end = 0, 0
    lds = [1] * n
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end, max_start = i, i - lds[i]
    sections = (max_end - max_start) / 3
    idx = max_start + int(sections) + int(sections / 2)
    return float(lrs[idx]), (float(lrs[idx]), float(losses[idx]))


def slide(
    lrs: np.ndarray, losses: np.ndarray, num_it: int, lr_diff: int = 15, thresh: float = 0.005, adjust_value: float = 1.0
) -> tuple[float, tuple[float, float]]:
    """fastai's slide: walk left from the end until the loss gradient flattens."""
    loss_grad = np.gradient(losses)
    lr_diff = min(lr_diff, len(losses) - 1)
    r_idx, l_idx = -1, -1 - lr_diff
    local_min_lr = lrs[l_idx]
    while l_idx >= -len(losses) and abs(loss_grad[r_idx] - loss_grad[l_idx]) > thresh:
        local_min_lr = lrs[l_idx]
        r_idx, l_idx = r_idx - 1, l_idx - 1
    suggestion = float(local_min_lr) * adjust_value
    at = float(np.interp(np.log10(suggestion), np.log10(lrs), losses))
    return suggestion, (suggestion, at)


def minimum(lrs: np.ndarray, losses: np.ndarray, num_it: int) -> tuple[float, tuple[float, float]]:
    """fastai's minimum: a tenth of the lr at the lowest loss (marked on the curve at that tenth)."""
    suggestion = float(lrs[int(np.argmin(losses))]) / 10
    at = float(np.interp(np.log10(suggestion), np.log10(lrs), losses))
    return suggestion, (suggestion, at)


def steep(lrs: np.ndarray, losses: np.ndarray, num_it: int) -> tuple[float, tuple[float, float]]:
    """fastai's steep: the lr where the loss falls fastest (per log-lr)."""
    grads = (losses[1:] - losses[:-1]) / (np.log(lrs[1:]) - np.log(lrs[:-1]))
    i = int(np.argmin(grads))
    return float(lrs[i]), (float(lrs[i]), float(losses[i]))


SUGGESTIONS: dict[str, Suggestion] = {"valley": valley, "minimum": minimum, "steep": steep, "slide": slide}


class LRFinder(Callback):
    """Raises the lr exponentially from `start_lr` to `end_lr` over `num_it` batches;
    stops when the smoothed loss exceeds 4x its best (`stop_div`) or is not finite."""

    order = 60
    run_valid = False
    progress_desc = "lr_find"  # progress lines read "lr_find: batch i/num_it, ..."

    def __init__(self, start_lr: float = 1e-7, end_lr: float = 10, num_it: int = 100, stop_div: bool = True) -> None:
        self.start_lr, self.end_lr, self.num_it, self.stop_div = start_lr, end_lr, max(num_it, 6), stop_div
        self.best_loss = math.inf

    @property
    def progress_total(self) -> int:
        """Batches the finder runs at most (the progress lines count against it)."""
        return self.num_it

    def before_fit(self) -> None:
        self.best_loss = math.inf

    def before_batch(self) -> None:
        assert self.learn.opt is not None, "fit creates the optimizer before the first batch"
        set_hyper(self.learn.opt, "lr", sched_exp(self.start_lr, self.end_lr, self.learn.train_iter / self.num_it))

    def after_batch(self) -> None:
        if self.learn.loss is None:
            return
        smooth = self.learn.recorder.smooth_loss
        if not math.isfinite(self.learn.loss_value) or not math.isfinite(smooth):
            raise CancelFitException()
        self.best_loss = min(self.best_loss, smooth)
        if self.stop_div and smooth > 4 * self.best_loss:
            raise CancelFitException()
        if self.learn.train_iter >= self.num_it:
            raise CancelFitException()

    def before_validate(self) -> None:
        raise CancelValidException()


def lr_find_figure(
    lrs: Sequence[float] | np.ndarray, losses: Sequence[float] | np.ndarray,
    points: dict[str, tuple[float, float]], values: dict[str, float] | None = None,
) -> Any:
    """Loss against lr (log scale) with each suggestion marked; the legend shows `values[name]`
    (what lr_find returns), else the marked lr."""
    fig, ax = new_axes()
    ax.plot(lrs, losses)
    values = values or {}
    for (name, (x, y)), color in zip(points.items(), ("C1", "C2", "C3", "C4", "C5", "C6")):
        ax.plot([x], [y], "o", color=color, label=f"{name}: {values.get(name, x):.2e}")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss (smoothed)")
    if points:
        ax.legend()
    return fig


def plot_lr_find(
    lrs: Sequence[float] | np.ndarray, losses: Sequence[float] | np.ndarray, path: str | Path | None,
    points: dict[str, tuple[float, float]], values: dict[str, float] | None = None,
) -> Path:
    """Save `lr_find_figure` as a PNG (default `lr_find.png` in the plot folder), inline in notebooks."""
    return save_figure(lr_find_figure(lrs, losses, points, values), path, "lr_find.png")


def finder_curve(lrs: Sequence[float], losses: Sequence[float], num_it: int) -> tuple[np.ndarray, np.ndarray]:
    """The part of a recorded lr_find curve the suggestions read: fastai's cut (the first tenth and
    the last 5 batches dropped) and nothing from the first non-finite loss on."""
    all_lrs, all_losses = np.asarray(lrs, dtype=float), np.asarray(losses, dtype=float)
    cut_lrs, cut_losses = all_lrs[num_it // 10 : -5], all_losses[num_it // 10 : -5]
    if len(cut_lrs) < 6:
        cut_lrs, cut_losses = all_lrs, all_losses
    bad = np.nonzero(~np.isfinite(cut_losses))[0]
    if len(bad):
        cut_lrs, cut_losses = cut_lrs[: bad[0]], cut_losses[: bad[0]]
    return cut_lrs, cut_losses


def suggest(lrs: np.ndarray, losses: np.ndarray, num_it: int, funcs: Sequence[str | Suggestion]) -> tuple[Any, dict[str, tuple[float, float]]]:
    """`SuggestedLRs(name=lr, ...)` and `{name: (lr, loss) marked on the plot}` for the rules in `funcs`."""
    names: list[str] = []
    values: list[float] = []
    points: dict[str, tuple[float, float]] = {}
    for f in funcs:
        if isinstance(f, str):
            if f not in SUGGESTIONS:
                raise ConfigError(f"unknown lr_find suggestion {f!r}; choose among {sorted(SUGGESTIONS)}.")
            name, func = f, SUGGESTIONS[f]
        else:
            name, func = getattr(f, "__name__", "suggestion"), f
        value, point = func(lrs, losses, num_it)
        names.append(name)
        values.append(value)
        points[name] = point
    # fields known only at run time: typeshed types such a namedtuple as a plain tuple class
    suggested_lrs = cast(Callable[..., Any], namedtuple("SuggestedLRs", names))
    return suggested_lrs(*values), points


def lr_find(
    learn: Learner,
    start_lr: float = 1e-7,
    end_lr: float = 10,
    num_it: int = 100,
    stop_div: bool = True,
    show_plot: bool = True,
    suggest_funcs: Sequence[str | Suggestion] = ("valley", "minimum", "steep", "slide"),
    plot_path: str | Path | None = None,
) -> Any:
    """Run the lr range test and return a `SuggestedLRs` namedtuple (one field per rule).

    Model weights, buffers and optimizer state are restored exactly afterwards; the
    recorded curve stays in `learn.recorder`. With `show_plot` the curve is saved as
    PNG at `plot_path` (default `lr_find.png` in the plot folder, see `graftzoo.learner.plot_folder`)
    and shown inline in notebooks. Progress lines print while it runs when stderr is no terminal.
    """
    had_opt = learn.opt is not None
    opt = learn.opt if learn.opt is not None else learn.create_opt()
    model_state = {k: v.detach().clone() for k, v in learn.model.state_dict().items()}
    opt_state = copy.deepcopy(opt.state_dict())
    n_epoch = num_it // max(len(learn.dls.train), 1) + 1
    guards = [cb for cb in learn.cbs if isinstance(cb, NanGuard)]
    finder = LRFinder(start_lr, end_lr, num_it, stop_div)
    try:
        with learn.removed_cbs(guards), learn.no_logging():
            learn.fit(n_epoch, cbs=[finder])
    finally:
        learn.model.load_state_dict(model_state)
        opt = learn.opt or opt  # fit keeps the optimizer it was given
        opt.load_state_dict(opt_state)
        opt.zero_grad(set_to_none=True)
        if not had_opt:
            learn.opt = None
    if not suggest_funcs:
        return None
    rec = learn.recorder
    cut_lrs, cut_losses = finder_curve(rec.lrs, rec.losses, num_it)
    if len(cut_lrs) < 3:
        raise TrainingError(
            f"lr_find stopped after {len(rec.lrs)} batches, too few to suggest a learning rate; "
            "lower start_lr, raise num_it, or pass stop_div=False."
        )
    result, points = suggest(cut_lrs, cut_losses, num_it, suggest_funcs)
    if show_plot:
        plot_lr_find(cut_lrs, cut_losses, plot_path, points, dict(zip(result._fields, result)))
    return result
