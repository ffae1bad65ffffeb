"""TabularPreprocessor: raw rows (dicts, DataFrames) -> (x_cat, x_cont) tensors, and back.

Its `state()` is plain JSON and is all it takes to preprocess rows and decode predictions in a
fresh process: the column names, each proc's fitted values and the target's decoding.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from graftzoo_tabular.errors import ConfigError, TableError
from graftzoo_tabular.procs import PROCS, Categorify, Columns, FillMissing, Normalize, TabularProc, proc_from_state
from graftzoo_tabular.targets import TargetEncoder

KIND = "tabular/columns"
STATE_VERSION = 1
DEFAULT_PROCS: tuple[type[TabularProc], ...] = (Categorify, FillMissing, Normalize)
ProcLike = TabularProc | type[TabularProc]


class TabularPreprocessor:
    """The fitted procs of one table plus its target encoding (registered later as input kind `tabular/columns`)."""

    kind = KIND

    def __init__(
        self,
        cat_names: Sequence[str],
        cont_names: Sequence[str],
        procs: Sequence[TabularProc],
        target: TargetEncoder | None = None,
        added_cat_names: Sequence[str] = (),
    ) -> None:
        self.cat_names, self.cont_names = [str(n) for n in cat_names], [str(n) for n in cont_names]
        self.procs = sorted(procs, key=lambda p: p.order)
        self.target = target
        self.added_cat_names = [str(n) for n in added_cat_names]
        self._categorify = next((p for p in self.procs if isinstance(p, Categorify)), None)
        self._normalize = next((p for p in self.procs if isinstance(p, Normalize)), None)

    # ---- fitting --------------------------------------------------------------------------
    @classmethod
    def fit(
        cls,
        df: pd.DataFrame,
        cat_names: Sequence[str],
        cont_names: Sequence[str],
        y_names: Sequence[str] = (),
        procs: Sequence[ProcLike] = DEFAULT_PROCS,
        y_block: str | None = None,
        train_idx: Sequence[int] | None = None,
    ) -> TabularPreprocessor:
        """Fit `procs` on the rows `train_idx` of `df` (all rows when None); the target classes come from all rows."""
        from graftzoo_tabular.columns import check_columns

        check_columns(df, cat_names, cont_names, y_names)
        fitted = _fresh_procs(procs)
        if cat_names and not any(isinstance(p, Categorify) for p in fitted):
            raise ConfigError(f"categorical columns {list(cat_names)[:5]} need Categorify in procs to become codes")
        train = df if train_idx is None else df.iloc[list(train_idx)]
        if len(train) == 0:
            raise TableError("there are no training rows; lower valid_pct or pass fewer valid_idx")
        work = _columns(train, cat_names, cont_names)
        cats, added = list(cat_names), list[str]()
        for proc in sorted(fitted, key=lambda p: p.order):
            new = proc.setup(work, cats, list(cont_names))
            cats, added = cats + new, added + new
            work = proc.encode(work)
        target = TargetEncoder.fit(df[list(y_names)], y_block) if y_names else None
        return cls(cat_names, cont_names, fitted, target, added)

    # ---- what the model is built for ----------------------------------------------------------
    @property
    def input_cat_names(self) -> list[str]:
        """The model's categorical inputs, in order: the table's, then the `<col>_na` ones FillMissing adds."""
        return self.cat_names + self.added_cat_names

    @property
    def cardinalities(self) -> list[int]:
        """Categories per categorical input, `#na#` included."""
        if self._categorify is None:
            return []
        return [len(self._categorify.classes[name]) for name in self.input_cat_names]

    def input_spec(self) -> dict[str, Any]:
        """What a `tabular/embeddings_mlp` body is built for."""
        return {
            "kind": KIND, "cat_names": self.input_cat_names, "cardinalities": self.cardinalities,
            "cont_names": list(self.cont_names), "n_cont": len(self.cont_names),
        }

    @property
    def y_names(self) -> list[str]:
        return self.target.y_names if self.target is not None else []

    # ---- state ------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Plain JSON: enough to rebuild this preprocessor with `from_state`."""
        return {
            "kind": KIND, "version": STATE_VERSION, "cat_names": self.cat_names, "cont_names": self.cont_names,
            "added_cat_names": self.added_cat_names, "procs": [p.state() for p in self.procs],
            "target": self.target.state() if self.target is not None else None,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> TabularPreprocessor:
        if state.get("kind") != KIND or state.get("version") != STATE_VERSION:
            raise ConfigError(
                f"not a {KIND} preprocessing state of version {STATE_VERSION} "
                f"(kind {state.get('kind')!r}, version {state.get('version')!r})"
            )
        target = TargetEncoder.from_state(state["target"]) if state.get("target") else None
        procs = [proc_from_state(p) for p in state["procs"]]
        return cls(state["cat_names"], state["cont_names"], procs, target, state.get("added_cat_names", ()))

    # ---- encoding ---------------------------------------------------------------------------
    def __call__(self, rows: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """A dict (one row), a pandas Series (one row), a list of dicts or a DataFrame ->
        (x_cat int64 (B, n_cat), x_cont float32 (B, n_cont))."""
        frame = as_frame(rows)
        work = _columns(frame, self.cat_names, self.cont_names)
        for proc in self.procs:
            work = proc.encode(work)
        n_rows = len(frame)
        x_cont = _tensor(work, self.cont_names, np.float32, n_rows)
        if not bool(torch.isfinite(x_cont).all()):
            name = self.cont_names[int((~torch.isfinite(x_cont)).any(dim=0).nonzero()[0, 0])]
            raise TableError(
                f"continuous column {name!r} has missing values that nothing fills (keep FillMissing in procs) "
                "or infinite values (replace them with NaN)"
            )
        return _tensor(work, self.input_cat_names, np.int64, n_rows), x_cont

    def encode_targets(self, df: pd.DataFrame) -> torch.Tensor:
        """The target tensor of `df` (its `y_names` columns)."""
        if self.target is None:
            raise ConfigError("this preprocessor was fitted without y_names; it has no targets to encode")
        absent = [n for n in self.y_names if n not in df.columns]
        if absent:
            raise TableError(f"the table lacks target column(s) {absent}")
        for name in self.y_names:
            if bool(df[name].isna().any()):
                raise TableError(f"target column {name!r} has {int(df[name].isna().sum())} missing value(s); drop those rows or fill them")
        return self.target.encode(df)

    # ---- decoding ---------------------------------------------------------------------------
    def decode(self, outputs: torch.Tensor, activated: bool = False) -> list[Any]:
        """Labels (classification), label lists (multi-label) or numbers (regression), one per row."""
        if self.target is None:
            raise ConfigError("this preprocessor was fitted without y_names; it cannot decode predictions")
        return self.target.decode(outputs, activated)

    def decode_rows(self, x_cat: torch.Tensor, x_cont: torch.Tensor) -> pd.DataFrame:
        """Model inputs back to readable rows: category values and un-normalized numbers."""
        data: dict[str, Any] = {}
        codes = x_cat.detach().cpu().numpy()
        for i, name in enumerate(self.input_cat_names):
            data[name] = self._categorify.decode(codes[:, i], name) if self._categorify else codes[:, i]
        values = x_cont.detach().float().cpu().numpy()
        for i, name in enumerate(self.cont_names):
            data[name] = self._normalize.decode(values[:, i], name) if self._normalize else values[:, i]
        return pd.DataFrame(data)

    def __repr__(self) -> str:
        procs = ", ".join(p.name for p in self.procs)
        kind = self.target.kind if self.target is not None else None
        return f"TabularPreprocessor(cat={len(self.input_cat_names)}, cont={len(self.cont_names)}, procs=[{procs}], target={kind})"


def as_frame(rows: Any) -> pd.DataFrame:
    """A DataFrame from a DataFrame, a Series or dict (one row), or a list of dicts."""
    if isinstance(rows, pd.DataFrame):
        return rows
    if isinstance(rows, pd.Series):
        return rows.to_frame().T
    if isinstance(rows, Mapping):
        if all(np.ndim(v) == 0 for v in rows.values()):
            return pd.DataFrame([dict(rows)])
        return pd.DataFrame(dict(rows))
    if isinstance(rows, (list, tuple)) and rows and all(isinstance(r, Mapping) for r in rows):
        return pd.DataFrame(list(rows))
    raise TableError(f"rows must be a dict (one row), a pandas Series or DataFrame, or a list of dicts; got {type(rows).__name__}")


def _fresh_procs(procs: Sequence[ProcLike]) -> list[TabularProc]:
    """Unfitted copies: a class is instantiated, an instance copied (so one can configure several loaders)."""
    out: list[TabularProc] = []
    for proc in procs:
        if isinstance(proc, type) and issubclass(proc, TabularProc):
            out.append(proc())
        elif isinstance(proc, TabularProc):
            out.append(copy.deepcopy(proc))
        else:
            raise ConfigError(f"procs must be Categorify, FillMissing or Normalize (classes or instances), got {proc!r}")
    names = [p.name for p in out]
    if len(set(names)) != len(names):
        raise ConfigError(f"procs names a step twice: {names}")
    unknown = [n for n in names if n not in PROCS]
    if unknown:
        raise ConfigError(f"unknown procs {unknown}; graftzoo-tabular knows {sorted(PROCS)}")
    return out


def _columns(df: pd.DataFrame, cat_names: Sequence[str], cont_names: Sequence[str]) -> Columns:
    """The feature columns as 1-d arrays, continuous ones float64 (absent columns are an error)."""
    absent = [n for n in [*cat_names, *cont_names] if n not in df.columns]
    if absent:
        raise TableError(f"the rows lack column(s) {absent}; give every feature column (None for a missing value)")
    if len(df) == 0:
        raise TableError("the table has no rows")
    data: Columns = {name: _values(df[name]) for name in cat_names}
    for name in cont_names:
        col = df[name]
        if pd.api.types.is_bool_dtype(col) or pd.api.types.is_datetime64_any_dtype(col):
            raise TableError(f"continuous column {name!r} holds {col.dtype} values, not numbers; convert it with pd.to_numeric")
        try:
            data[name] = pd.to_numeric(col).to_numpy(dtype=np.float64, na_value=np.nan)
        except (ValueError, TypeError) as exc:
            raise TableError(f"continuous column {name!r} holds a value that is not a number: {exc}") from exc
    return data


def _values(col: pd.Series) -> Any:
    """A categorical column's values: its pandas Categorical (categories and their order kept), or a numpy array."""
    return col.array if isinstance(col.dtype, pd.CategoricalDtype) else col.to_numpy()


def _tensor(work: Columns, names: Sequence[str], dtype: type, n_rows: int) -> torch.Tensor:
    if not names:
        return torch.zeros((n_rows, 0), dtype=torch.int64 if dtype is np.int64 else torch.float32)
    return torch.from_numpy(np.stack([np.asarray(work[n], dtype=dtype) for n in names], axis=1))
