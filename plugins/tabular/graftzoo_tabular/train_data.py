"""The `[data]` section graftzoo-tabular contributes to `graftzoo train` (`kind = "tabular/csv"`)."""

from __future__ import annotations

from typing import Any

from graftzoo.sdk import check_section
from graftzoo_tabular.loaders import TabularDataLoaders

_CSV: dict[str, tuple[tuple[type, ...], str]] = {
    "path": ((str,), "a CSV file path (string)"),
    "y_names": ((str, list), "the target column, or a list of target columns"),
    "cat_names": ((list,), "a list of categorical column names (default: inferred from dtypes)"),
    "cont_names": ((list,), "a list of continuous column names (default: inferred from dtypes)"),
    "valid_pct": ((float, int), "fraction of rows held out for validation (0 < x < 1)"),
    "y_block": ((str,), '"classification", "regression" or "multilabel"'),
}


def table_csv(section: dict[str, Any], *, bs: int, seed: int) -> TabularDataLoaders:
    """A CSV table read with pandas, preprocessed once (Categorify, FillMissing, Normalize)."""
    opts = check_section(section, _CSV, "tabular/csv", ("path", "y_names"))
    return TabularDataLoaders.from_csv(opts.pop("path"), opts.pop("y_names"), bs=bs, seed=seed, **opts)
