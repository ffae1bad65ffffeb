"""Targets: what kind they are (classification, regression, multi-label), tensors, and decoding."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from graftzoo_tabular import checks
from graftzoo_tabular.errors import ConfigError, TableError
from graftzoo_tabular.jsonable import plain, sort_values
from graftzoo_tabular.procs import index_of

KINDS = ("classification", "regression", "multilabel")
TASKS = {"classification": "core/classification", "regression": "core/regression", "multilabel": "core/multilabel"}


def infer_kind(y: pd.DataFrame) -> str:
    """One float column: regression; one other column (strings, ints, bools): classification.
    Several columns: all bools or 0/1 ints is multi-label, all floats is regression."""
    cols = [y[name] for name in y.columns]
    if len(cols) == 1:
        return "regression" if pd.api.types.is_float_dtype(cols[0]) else "classification"
    if all(pd.api.types.is_bool_dtype(c) or (pd.api.types.is_integer_dtype(c) and set(c.unique()) <= {0, 1}) for c in cols):
        return "multilabel"
    if all(pd.api.types.is_float_dtype(c) for c in cols):
        return "regression"
    raise ConfigError(
        f"cannot tell what kind of targets the columns {list(y.columns)} are ({[str(c.dtype) for c in cols]}); "
        f"pass y_block= one of {list(KINDS)}"
    )


class TargetEncoder:
    """Targets as tensors: class indices (classification), floats (regression), 0/1 floats (multi-label)."""

    def __init__(self, kind: str, y_names: Sequence[str], vocab: Sequence[Any] | None = None) -> None:
        if kind not in KINDS:
            raise ConfigError(f"y_block must be one of {list(KINDS)}, got {kind!r}")
        if kind == "classification" and len(y_names) != 1:
            raise ConfigError(f"classification takes one target column, got {list(y_names)}; use y_block='multilabel' for several")
        self.kind, self.y_names = kind, [str(n) for n in y_names]
        self.vocab: list[Any] | None = list(vocab) if vocab is not None else (list(self.y_names) if kind == "multilabel" else None)

    @classmethod
    def fit(cls, y: pd.DataFrame, y_block: str | None = None) -> TargetEncoder:
        """The kind (`y_block`, else inferred) and, for classification, the classes found in `y`."""
        kind = y_block or infer_kind(y)
        names = [str(n) for n in y.columns]
        if kind == "classification" and len(names) == 1:
            col = y[names[0]]
            if isinstance(col.dtype, pd.CategoricalDtype):
                return cls(kind, names, [plain(v) for v in col.cat.categories])
            return cls(kind, names, sort_values([plain(v) for v in col.unique()]))
        encoder = cls(kind, names)
        encoder.encode(y)  # checks the values once, at fit time
        return encoder

    @property
    def task(self) -> str:
        """The registry name of the core task that trains these targets."""
        return TASKS[self.kind]

    @property
    def c(self) -> int:
        """Outputs the model needs: classes, or target columns."""
        return len(self.vocab) if self.kind == "classification" and self.vocab is not None else len(self.y_names)

    def encode(self, df: pd.DataFrame) -> torch.Tensor:
        """(B,) int64 class indices, or (B, n_targets) float32."""
        if self.kind == "classification":
            col = df[self.y_names[0]]
            codes = index_of(col, self.vocab)
            if (codes < 0).any():
                unknown = sorted({str(v) for v in col[codes < 0]})[:5]
                raise TableError(f"target column {self.y_names[0]!r} has labels {unknown} that are not among the classes {self.vocab[:10]}")  # type: ignore[index]
            return torch.from_numpy(codes)
        try:
            values = np.stack([pd.to_numeric(df[n]).to_numpy(dtype=np.float32) for n in self.y_names], axis=1)
        except (ValueError, TypeError) as exc:
            raise TableError(f"{self.kind} targets {self.y_names} must be numbers: {exc}") from exc
        if self.kind == "multilabel" and not np.isin(values, (0.0, 1.0)).all():
            raise TableError(f"multi-label target columns {self.y_names} must hold only 0/1 or True/False")
        return torch.from_numpy(values)

    def decode(self, outputs: torch.Tensor, activated: bool = False) -> list[Any]:
        """One label per row: the class, the list of labels that are on, or the predicted number(s).

        `outputs` are the model's raw outputs, or with `activated` the probabilities `get_preds` returns.
        """
        out = outputs.detach().float().cpu()
        if self.kind == "classification":
            return [self.vocab[int(i)] for i in out.argmax(dim=-1)]  # type: ignore[index]
        if self.kind == "multilabel":
            on = out > (0.5 if activated else 0.0)
            return [[name for name, flag in zip(self.y_names, row.tolist()) if flag] for row in on]
        return [row[0] if len(row) == 1 else row for row in out.tolist()]

    def decode_targets(self, y: torch.Tensor) -> list[Any]:
        """Encoded targets back to labels (for show_batch)."""
        if self.kind == "classification":
            return [self.vocab[int(i)] for i in y]  # type: ignore[index]
        if self.kind == "multilabel":
            return [[name for name, flag in zip(self.y_names, row.tolist()) if flag] for row in y]
        return [row[0] if len(row) == 1 else row for row in y.tolist()]

    def state(self) -> dict[str, Any]:
        return {"kind": self.kind, "y_names": self.y_names, "vocab": self.vocab}

    @property
    def class_names(self) -> list[str] | None:
        """The labels predictions decode to, as text (what a saved head stores as its classes)."""
        return [str(v) for v in self.vocab] if self.vocab is not None else None

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TargetEncoder:
        """The encoder `state()` describes, every key checked (a saved head is untrusted input)."""
        where = "the target state"
        checks.mapping(state, where, {"kind", "y_names", "vocab"})
        kind = state["kind"]
        if kind not in KINDS:
            raise ConfigError(f"{where}: kind must be one of {list(KINDS)}, got {str(kind)[:60]!r}")
        y_names = checks.names(state["y_names"], f"{where}: y_names")
        if not y_names:
            raise ConfigError(f"{where}: y_names is empty")
        vocab = state["vocab"]
        if kind == "classification":
            vocab = checks.category_values(vocab, f"{where}: vocab", checks.MAX_CLASSES)
            if not vocab:
                raise ConfigError(f"{where}: a classification target needs its classes in vocab")
        elif kind == "multilabel" and vocab != y_names:
            raise ConfigError(f"{where}: a multi-label target's vocab must be its y_names")
        elif kind == "regression" and vocab is not None:
            raise ConfigError(f"{where}: a regression target has no vocab (null)")
        return cls(kind, y_names, vocab)
