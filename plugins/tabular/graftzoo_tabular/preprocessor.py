"""TabularPreprocessor: raw rows (dicts, DataFrames) -> (x_cat, x_cont) tensors, and back.

It is the `graftzoo.Preprocessor` of input kind `tabular/columns`. Its `state()` is plain JSON and
is all it takes to preprocess rows in a fresh process: the column names, each proc's fitted values
and the target's classes (a saved head stores it; `from_state` checks every key of it).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from graftzoo.inputs import InputSpec
from graftzoo.preprocessor import Preprocessor
from graftzoo_tabular import checks
from graftzoo_tabular.errors import ConfigError, TableError
from graftzoo_tabular.procs import PROCS, Categorify, Columns, FillMissing, Normalize, TabularProc, proc_from_state
from graftzoo_tabular.targets import TargetEncoder

KIND = "tabular/columns"
STATE_VERSION = 1
STATE_KEYS = {"kind", "version", "cat_names", "cont_names", "added_cat_names", "procs", "target"}
DEFAULT_PROCS: tuple[type[TabularProc], ...] = (Categorify, FillMissing, Normalize)
ProcLike = TabularProc | type[TabularProc]


class TabularPreprocessor(Preprocessor):
    """The fitted procs of one table plus its target encoding: the registered input kind `tabular/columns`.

    An item is one row: a dict (column -> value), a pandas Series or a one-row DataFrame; a batch
    is a DataFrame or a list of rows. `encode` gives `(x_cat int64 (B, n_cat), x_cont float32 (B, n_cont))`.
    """

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

    def input_spec(self) -> InputSpec:
        """What a `tabular/embeddings_mlp` body is built for: its columns, their cardinalities, and the
        fingerprint of the fitted feature procs (a trained body only serves rows encoded the same way)."""
        return InputSpec(KIND, {
            "cat_names": self.input_cat_names, "cardinalities": self.cardinalities,
            "cont_names": list(self.cont_names), "n_cont": len(self.cont_names), "fingerprint": self.fingerprint,
        })

    @property
    def fingerprint(self) -> str:
        """sha256 of the feature columns and fitted procs (the target left out)."""
        features = {k: v for k, v in self.state().items() if k != "target"}
        return "sha256:" + hashlib.sha256(json.dumps(features, sort_keys=True).encode()).hexdigest()

    @property
    def class_names(self) -> list[str] | None:
        """The labels predictions decode to (classes, or multi-label target names); None for regression."""
        return self.target.class_names if self.target is not None else None

    def with_target(self, df: pd.DataFrame, y_names: Sequence[str], y_block: str | None = None) -> TabularPreprocessor:
        """These fitted feature procs with a target fitted on `df[y_names]` (a new head over the same columns)."""
        from graftzoo_tabular.columns import check_columns

        check_columns(df, self.cat_names, self.cont_names, y_names)
        procs = [proc_from_state(json.loads(json.dumps(p.state()))) for p in self.procs]
        return type(self)(self.cat_names, self.cont_names, procs, TargetEncoder.fit(df[list(y_names)], y_block), self.added_cat_names)

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
    def from_state(cls, state: dict[str, Any]) -> TabularPreprocessor:
        """The preprocessor `state()` describes; every key is checked (a ConfigError names the bad one)."""
        where = f"the {KIND} state"
        checks.mapping(state, where, STATE_KEYS)
        if state["kind"] != KIND or state["version"] != STATE_VERSION:
            raise ConfigError(f"{where} must have kind {KIND!r} and version {STATE_VERSION}, "
                              f"got {str(state['kind'])[:60]!r} and {str(state['version'])[:20]!r}")
        cat_names = checks.names(state["cat_names"], f"{where}: cat_names")
        cont_names = checks.names(state["cont_names"], f"{where}: cont_names")
        added = checks.names(state["added_cat_names"], f"{where}: added_cat_names")
        checks.names(cat_names + cont_names + added, f"{where}: its columns together")
        raw_procs = state["procs"]
        if not isinstance(raw_procs, list) or len(raw_procs) > len(PROCS):
            raise ConfigError(f"{where}: procs must be a list of at most {len(PROCS)} proc states")
        procs = [proc_from_state(p) for p in raw_procs]
        if len({p.name for p in procs}) != len(procs):
            raise ConfigError(f"{where}: procs names a step twice")
        _check_procs_fit(procs, cat_names, cont_names, added, where)
        target = TargetEncoder.from_state(state["target"]) if state["target"] is not None else None
        if target is not None and set(target.y_names) & set(cat_names + cont_names + added):
            raise ConfigError(f"{where}: target columns {target.y_names[:5]} are also feature columns")
        return cls(cat_names, cont_names, procs, target, added)

    @classmethod
    def for_model(cls, model: Any) -> TabularPreprocessor:
        raise ConfigError(
            "a tabular model predicts through the TabularPreprocessor fitted on its training table, and this model has "
            "none: train it on TabularDataLoaders (the Learner hands dls.preprocessor to the model), set "
            "model.preprocessor = dls.preprocessor, or load a saved head (it carries its preprocessor)"
        )

    # ---- encoding ---------------------------------------------------------------------------
    def is_single(self, item: Any) -> bool:
        """One row: a dict of scalars, a pandas Series, or a one-row DataFrame."""
        if isinstance(item, pd.Series):
            return True
        if isinstance(item, pd.DataFrame):
            return len(item) == 1
        return isinstance(item, Mapping) and all(np.ndim(v) == 0 for v in item.values())

    def batch_items(self, inputs: Any) -> tuple[bool, list[Any]]:
        """(single, rows): one row stays one; a DataFrame, a dict of columns or a list of rows becomes its rows."""
        if self.is_single(inputs):
            return True, [inputs]
        if isinstance(inputs, (list, tuple)) and inputs and all(self.is_single(r) for r in inputs):
            return False, list(inputs)
        if isinstance(inputs, (pd.DataFrame, Mapping)):
            frame = as_frame(inputs)
            if len(frame) == 0:
                raise TableError("the table has no rows")
            return False, frame.to_dict("records")
        raise TableError(
            "rows must be a dict (one row), a pandas Series or DataFrame, or a non-empty list of dicts; "
            f"got {type(inputs).__name__}"
        )

    def encode(self, items: Sequence[Any]) -> tuple[torch.Tensor, ...]:
        """`(x_cat, x_cont)` for a list of rows (dicts, Series or one-row DataFrames)."""
        if not items or not all(self.is_single(r) for r in items):
            raise TableError("encode takes a non-empty list of rows, each a dict, a pandas Series or a one-row DataFrame")
        if all(isinstance(r, Mapping) for r in items):
            frame = pd.DataFrame([dict(r) for r in items])
        else:
            frame = pd.concat([as_frame(r) for r in items], ignore_index=True)
        return self(frame)

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


def _check_procs_fit(procs: list[TabularProc], cat_names: list[str], cont_names: list[str], added: list[str], where: str) -> None:
    """The fitted procs cover exactly the state's columns (what sizes the model's inputs)."""
    by_name = {p.name: p for p in procs}
    categorify, fill, normalize = by_name.get("Categorify"), by_name.get("FillMissing"), by_name.get("Normalize")
    if isinstance(categorify, Categorify):
        if list(categorify.classes) != cat_names + added:
            raise ConfigError(f"{where}: Categorify's classes must be given for exactly the columns {(cat_names + added)[:10]}, in order")
    elif cat_names or added:
        raise ConfigError(f"{where}: categorical columns need Categorify among the procs")
    if isinstance(fill, FillMissing):
        if set(fill.fill_values) != set(cont_names):
            raise ConfigError(f"{where}: FillMissing's fill_values must be given for exactly the continuous columns {cont_names[:10]}")
        expected = [f"{n}_na" for n in fill.na_cols] if fill.add_col else []
        if added != expected:
            raise ConfigError(f"{where}: added_cat_names must be {expected[:10]} (the `_na` columns of FillMissing)")
    elif added:
        raise ConfigError(f"{where}: added_cat_names needs FillMissing among the procs")
    if isinstance(normalize, Normalize) and set(normalize.means) != set(cont_names):
        raise ConfigError(f"{where}: Normalize's means and stds must be given for exactly the continuous columns {cont_names[:10]}")


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
