"""fastai's tabular procs, fitted on the training rows only, with plain-JSON state.

They always run in fastai's order, whatever order they are given in: FillMissing (adds the
`<col>_na` columns), then Categorify (which also encodes those), then Normalize. Each works on a
`Columns` dict: one 1-d array per feature column (continuous ones float64, a pandas Categorical
kept as one), so encoding a single row costs a few numpy calls rather than DataFrame operations.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from graftzoo_tabular import checks
from graftzoo_tabular.errors import ConfigError, TableError
from graftzoo_tabular.jsonable import plain, sort_values

NA = "#na#"
FILL_STRATEGIES = ("median", "mode", "constant")
Columns = dict[str, Any]  # column name -> 1-d numpy array (or pd.Categorical)


class TabularProc:
    """A preprocessing step: `setup` on the training rows, then `encode` any rows the same way."""

    name: ClassVar[str] = ""
    order: ClassVar[int] = 0

    def setup(self, train: Columns, cat_names: list[str], cont_names: list[str]) -> list[str]:
        """Fit on the training rows; return the categorical columns this step adds."""
        raise NotImplementedError

    def encode(self, columns: Columns) -> Columns:
        """Encode the rows in `columns` (changed in place and returned)."""
        raise NotImplementedError

    def state(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TabularProc:
        raise NotImplementedError


class FillMissing(TabularProc):
    """Fill missing continuous values with the training median/mode/constant; with `add_col`, add a
    boolean `<col>_na` categorical column for each column that had missing values in training.

    Unlike fastai (which asserts), a column that had no missing values in training but has some
    later is filled with the same strategy's training value, and gets no `_na` column.
    """

    name = "FillMissing"
    order = 0

    def __init__(self, fill_strategy: str = "median", add_col: bool = True, fill_vals: dict[str, float] | None = None) -> None:
        if fill_strategy not in FILL_STRATEGIES:
            raise ConfigError(f"fill_strategy must be one of {list(FILL_STRATEGIES)}, got {fill_strategy!r}")
        self.fill_strategy, self.add_col = fill_strategy, bool(add_col)
        self.fill_vals: dict[str, float] = dict(fill_vals or {})
        self.fill_values: dict[str, float] = {}
        self.na_cols: list[str] = []

    def setup(self, train: Columns, cat_names: list[str], cont_names: list[str]) -> list[str]:
        self.fill_values = {name: self._fill_value(train[name], name) for name in cont_names}
        self.na_cols = [name for name in cont_names if bool(np.isnan(train[name]).any())]
        added = [f"{name}_na" for name in self.na_cols] if self.add_col else []
        clash = [name for name in added if name in train or name in cat_names]
        if clash:
            raise ConfigError(f"FillMissing would add column(s) {clash}, but the table already has them; rename them")
        return added

    def _fill_value(self, col: np.ndarray, name: str) -> float:
        if self.fill_strategy == "constant":
            return float(self.fill_vals.get(name, 0))
        values = pd.Series(col).dropna()
        if values.empty:
            raise TableError(
                f"continuous column {name!r} has no values in the training rows, so FillMissing has nothing to "
                f"fill it with; drop it, or use FillMissing(fill_strategy='constant')"
            )
        return float(values.median() if self.fill_strategy == "median" else values.value_counts().idxmax())

    def encode(self, columns: Columns) -> Columns:
        for name, value in self.fill_values.items():
            missing = np.isnan(columns[name])
            if self.add_col and name in self.na_cols:
                columns[f"{name}_na"] = missing
            if missing.any():
                columns[name] = np.where(missing, value, columns[name])
        return columns

    def state(self) -> dict[str, Any]:
        return {
            "proc": self.name, "fill_strategy": self.fill_strategy, "add_col": self.add_col,
            "fill_vals": self.fill_vals, "fill_values": self.fill_values, "na_cols": self.na_cols,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> FillMissing:
        where = "the FillMissing state"
        checks.mapping(state, where, {"proc", "fill_strategy", "add_col", "fill_vals", "fill_values", "na_cols"})
        if state["fill_strategy"] not in FILL_STRATEGIES:
            raise ConfigError(f"{where}: fill_strategy must be one of {list(FILL_STRATEGIES)}, got {str(state['fill_strategy'])[:60]!r}")
        fill_vals = state["fill_vals"]
        if not isinstance(fill_vals, dict):
            raise ConfigError(f"{where}: fill_vals must be a JSON object")
        fill_values = state["fill_values"]
        if not isinstance(fill_values, dict):
            raise ConfigError(f"{where}: fill_values must be a JSON object")
        proc = cls(state["fill_strategy"], checks.boolean(state["add_col"], f"{where}: add_col"),
                   checks.numbers_by_column(fill_vals, f"{where}: fill_vals", checks.names(list(fill_vals), f"{where}: fill_vals")))
        proc.fill_values = checks.numbers_by_column(fill_values, f"{where}: fill_values", checks.names(list(fill_values), f"{where}: fill_values"))
        proc.na_cols = checks.names(state["na_cols"], f"{where}: na_cols")
        absent = [n for n in proc.na_cols if n not in proc.fill_values]
        if absent:
            raise ConfigError(f"{where}: na_cols names {absent[:5]}, which have no fill value")
        return proc


class Categorify(TabularProc):
    """One category map per categorical column: index 0 is `#na#`, then the training values (sorted,
    or in the order of a pandas Categorical's categories). Missing and unseen values both map to 0."""

    name = "Categorify"
    order = 1

    def __init__(self) -> None:
        self.classes: dict[str, list[Any]] = {}
        self._indexes: dict[str, pd.Index] = {}

    def setup(self, train: Columns, cat_names: list[str], cont_names: list[str]) -> list[str]:
        self.classes = {name: [NA, *_categories(train[name])] for name in cat_names}
        self._indexes = {}
        return []

    def encode(self, columns: Columns) -> Columns:
        for name in self.classes:
            columns[name] = self.codes(columns[name], name)
        return columns

    def codes(self, values: Any, name: str) -> np.ndarray:
        """int64 codes of one column: 1 + the value's position among the training values, 0 when unknown."""
        index = self._indexes.get(name)
        if index is None:
            index = self._indexes[name] = pd.Index(self.classes[name][1:])
        return index_of(values, index) + 1

    def decode(self, codes: np.ndarray, name: str) -> list[Any]:
        classes = self.classes[name]
        return [classes[int(c)] for c in codes]

    def state(self) -> dict[str, Any]:
        return {"proc": self.name, "classes": self.classes}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Categorify:
        where = "the Categorify state"
        checks.mapping(state, where, {"proc", "classes"})
        classes = state["classes"]
        if not isinstance(classes, dict):
            raise ConfigError(f"{where}: classes must be a JSON object (column -> categories)")
        checks.names(list(classes), f"{where}: classes")
        proc, total = cls(), 0
        for name, values in classes.items():
            found = checks.category_values(values, f"{where}: classes[{name!r}]")
            if not found or found[0] != NA:
                raise ConfigError(f"{where}: classes[{name!r}] must start with {NA!r} (index 0: missing or unseen values)")
            total += len(found)
            if total > checks.MAX_TOTAL_CATEGORIES:
                raise ConfigError(f"{where}: classes hold more than {checks.MAX_TOTAL_CATEGORIES} categories in all")
            proc.classes[name] = found
        return proc


def index_of(values: Any, known: pd.Index | list[Any]) -> np.ndarray:
    """int64 position of each entry of `values` among `known`; -1 for missing and unknown entries."""
    if isinstance(values, pd.Series):
        values = values.array
    if isinstance(values, pd.Categorical):
        values = np.asarray(values, dtype=object)
    index = known if isinstance(known, pd.Index) else pd.Index(known)
    return index.get_indexer(values).astype(np.int64)


def _categories(values: Any) -> list[Any]:
    if isinstance(values, pd.Categorical):
        return [plain(v) for v in values.categories]
    return sort_values([plain(v) for v in pd.unique(values) if not _is_na(v)])


def _is_na(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)


class Normalize(TabularProc):
    """Subtract the training mean and divide by the training std (ddof=0, plus 1e-7) per continuous column."""

    name = "Normalize"
    order = 2

    def __init__(self) -> None:
        self.means: dict[str, float] = {}
        self.stds: dict[str, float] = {}

    def setup(self, train: Columns, cat_names: list[str], cont_names: list[str]) -> list[str]:
        for name in cont_names:
            if bool(np.isnan(train[name]).any()):
                raise TableError(
                    f"continuous column {name!r} has missing values and nothing fills them; keep FillMissing in procs"
                )
        self.means = {name: float(np.mean(train[name])) for name in cont_names}
        self.stds = {name: float(np.std(train[name])) + 1e-7 for name in cont_names}
        return []

    def encode(self, columns: Columns) -> Columns:
        for name, mean in self.means.items():
            columns[name] = (columns[name] - mean) / self.stds[name]
        return columns

    def decode(self, values: np.ndarray, name: str) -> np.ndarray:
        return values * self.stds[name] + self.means[name]

    def state(self) -> dict[str, Any]:
        return {"proc": self.name, "means": self.means, "stds": self.stds}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Normalize:
        where = "the Normalize state"
        checks.mapping(state, where, {"proc", "means", "stds"})
        means = state["means"]
        if not isinstance(means, dict):
            raise ConfigError(f"{where}: means must be a JSON object (column -> mean)")
        columns = checks.names(list(means), f"{where}: means")
        proc = cls()
        proc.means = checks.numbers_by_column(means, f"{where}: means", columns)
        proc.stds = checks.numbers_by_column(state["stds"], f"{where}: stds", columns, positive=True)
        return proc


PROCS: dict[str, type[TabularProc]] = {p.name: p for p in (FillMissing, Categorify, Normalize)}


def proc_from_state(state: dict[str, Any]) -> TabularProc:
    """Rebuild a fitted proc from its state; only the three known procs (no code is named by state)."""
    name = state.get("proc") if isinstance(state, dict) else None
    if not isinstance(name, str) or name not in PROCS:
        raise ConfigError(f"unknown tabular proc {str(name)[:60]!r} in the preprocessing state; known: {sorted(PROCS)}")
    return PROCS[name].from_state(state)
