"""What the labels are: one class (category), several tags (multi_category) or numbers (regression).

The rule, stated once (`docs/vision-data.md` repeats it):

- `y_block` decides when given: "category", "multi_category" or "regression" (fastai's CategoryBlock,
  MultiCategoryBlock, RegressionBlock; the task names `core/classification`, `core/multilabel`,
  `core/regression` are accepted too).
- Otherwise the labels decide: every label a list/tuple (or `label_delim` given) -> multi_category;
  every label a float -> regression; str/int labels -> category. A mix of lists and single labels,
  or of floats and classes, is an error that names an item of each kind (almost always a bug in
  `label_func`), never a silent guess.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import torch

from graftzoo_vision.data.errors import ConfigError, LabelError

CATEGORY, MULTI, REGRESSION = "category", "multi_category", "regression"
TASKS = {CATEGORY: "core/classification", MULTI: "core/multilabel", REGRESSION: "core/regression"}
_ALIASES = {
    **{k: k for k in TASKS},
    **{v: k for k, v in TASKS.items()},
    "classification": CATEGORY,
    "multilabel": MULTI,
    "multi_label": MULTI,
    "multicategory": MULTI,
}


@dataclass
class Targets:
    """Encoded targets and what they mean.

    category: int64 (N,) class indices into `vocab`; multi_category: float32 (N, len(vocab)) multi-hot;
    regression: float32 (N, k) values (`vocab` None, or the k column names).
    """

    values: torch.Tensor
    vocab: list[str] | None
    kind: str

    @property
    def task(self) -> str:
        """The registered task that trains on these targets."""
        return TASKS[self.kind]

    @property
    def c(self) -> int:
        """Model outputs: classes, tags, or regression values per item."""
        if self.kind == REGRESSION:
            return int(self.values.shape[1])
        return len(self.vocab or [])


def check_y_block(y_block: str | None) -> str | None:
    """The canonical kind for `y_block` (None stays None: the labels decide)."""
    if y_block is None:
        return None
    kind = _ALIASES.get(str(y_block).lower()) if isinstance(y_block, str) else None
    if kind is None:
        raise ConfigError(
            f"y_block={y_block!r} is not one of 'category', 'multi_category', 'regression' "
            "(or the task names core/classification, core/multilabel, core/regression)."
        )
    return kind


def _is_missing(label: Any) -> bool:
    return label is None or (isinstance(label, float) and math.isnan(label))


def _is_float(label: Any) -> bool:
    return isinstance(label, Real) and not isinstance(label, Integral)


def _is_list(label: Any) -> bool:
    return isinstance(label, (list, tuple))


def infer_kind(labels: Sequence[Any], label_delim: str | None = None) -> str:
    """The kind the labels show (see the module docstring); a LabelError for an accidental mix."""
    if label_delim is not None:
        return MULTI
    lists = [i for i, label in enumerate(labels) if _is_list(label)]
    if lists and len(lists) < len(labels):
        single = next(i for i, label in enumerate(labels) if not _is_list(label))
        raise LabelError(
            f"item {lists[0]} has a list of labels ({labels[lists[0]]!r}) but item {single} has one "
            f"({labels[single]!r}): return a list for EVERY item for multi-label data (an empty list "
            "for no tag), or one label per item; or pass y_block='multi_category' to make single "
            "labels one-tag lists."
        )
    if lists:
        return MULTI
    present = [i for i, label in enumerate(labels) if not _is_missing(label)]  # a NaN is named further on
    floats = [i for i in present if _is_float(labels[i])]
    if floats and len(floats) < len(present):
        other = next(i for i in present if not _is_float(labels[i]))
        raise LabelError(
            f"item {floats[0]} has a float label ({labels[floats[0]]!r}) but item {other} has "
            f"{labels[other]!r}: give floats for every item (regression), or pass y_block='category' "
            "to use the labels as class names."
        )
    return REGRESSION if floats else CATEGORY


def make_targets(
    labels: Sequence[Any],
    y_block: str | None = None,
    vocab: Sequence[str] | None = None,
    label_delim: str | None = None,
) -> Targets:
    """Encode raw labels (one per item) as `Targets` of the kind `y_block` names or the labels show."""
    kind = check_y_block(y_block) or infer_kind(labels, label_delim)
    if kind == MULTI:
        tags = [_tags(label, label_delim, i) for i, label in enumerate(labels)]
        names = make_vocab([t for item in tags for t in item], vocab)
        index = {name: j for j, name in enumerate(names)}
        values = torch.zeros(len(tags), len(names))
        for i, item in enumerate(tags):
            values[i, [index[t] for t in item]] = 1.0
        return Targets(values, names, MULTI)
    if kind == REGRESSION:
        rows = [_numbers(label, i) for i, label in enumerate(labels)]
        if len({len(r) for r in rows}) > 1:
            raise LabelError("regression items have different numbers of values; give each item the same count.")
        return Targets(torch.tensor(rows, dtype=torch.float32), list(vocab) if vocab is not None else None, REGRESSION)
    for i, label in enumerate(labels):
        if _is_missing(label) or _is_list(label):
            raise LabelError(f"item {i} has label {label!r}; single-label (category) data needs one label per item.")
    names = make_vocab([str(label) for label in labels], vocab)
    return Targets(encode_labels([str(label) for label in labels], names), names, CATEGORY)


def _tags(label: Any, label_delim: str | None, i: int) -> list[str]:
    """One item's tags: a list as it is, a delimited string split, a single label as one tag."""
    if _is_missing(label):
        return []
    if _is_list(label):
        return [str(t) for t in label]
    text = str(label)
    if label_delim is not None:
        return [t for t in text.split(label_delim) if t]
    return [text] if text else []


def _numbers(label: Any, i: int) -> list[float]:
    values = list(label) if _is_list(label) else [label]
    try:
        numbers = [float(v) for v in values]
    except (TypeError, ValueError):
        raise LabelError(f"item {i} has label {label!r}, which is not a number; regression needs numbers.") from None
    if not all(math.isfinite(v) for v in numbers):
        raise LabelError(f"item {i} has label {label!r}; regression targets must be finite (no NaN or inf).")
    return numbers


def make_vocab(labels: Sequence[str], vocab: Sequence[str] | None = None) -> list[str]:
    """The sorted distinct labels, or `vocab` as given (checked to cover every label)."""
    seen = set(labels)
    if vocab is None:
        return sorted(seen)
    missing = sorted(seen - set(vocab))
    if missing:
        raise LabelError(
            f"labels {missing[:5]} are not in the vocab you passed ({len(vocab)} classes); "
            "add them to vocab or pass vocab=None to build it from the data."
        )
    return list(vocab)


def encode_labels(labels: Sequence[str], vocab: Sequence[str]) -> torch.Tensor:
    """Class indices (int64) of `labels` in `vocab`."""
    index = {name: i for i, name in enumerate(vocab)}
    return torch.tensor([index[label] for label in labels], dtype=torch.long)


def tensor_targets(labels: torch.Tensor, y_block: str | None, vocab: Sequence[str] | None) -> Targets | None:
    """Targets from a label tensor that is not plain class indices (None: a 1-d integer tensor, categories).

    2-d tensors of 0/1 (any dtype) are multi-hot; other float tensors are regression values.
    """
    kind = check_y_block(y_block)
    if kind == CATEGORY or (kind is None and not labels.is_floating_point() and labels.ndim == 1):
        return None
    if labels.ndim not in (1, 2):
        raise LabelError(f"label tensors must be (N,) or (N, k), got shape {tuple(labels.shape)}.")
    values = labels.float() if labels.ndim == 2 else labels.float()[:, None]
    binary = bool(((values == 0) | (values == 1)).all())
    if kind is None:
        kind = MULTI if labels.ndim == 2 and binary else REGRESSION
    if kind == MULTI:
        if labels.ndim != 2 or not binary:
            raise LabelError("multi-label targets must be an (N, n_classes) tensor of 0s and 1s (multi-hot).")
        names = list(vocab) if vocab is not None else [str(j) for j in range(values.shape[1])]
        if len(names) != values.shape[1]:
            raise LabelError(f"vocab has {len(names)} names but the multi-hot targets have {values.shape[1]} columns.")
        return Targets(values, names, MULTI)
    if not bool(values.isfinite().all()):
        raise LabelError("regression targets must be finite (no NaN or inf).")
    return Targets(values, list(vocab) if vocab is not None else None, REGRESSION)
