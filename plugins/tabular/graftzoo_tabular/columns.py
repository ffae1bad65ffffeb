"""Which columns are categorical and which continuous: inferred from dtypes, or checked when given."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from graftzoo_tabular.errors import ConfigError, TableError

MAX_CARD = 20  # integer columns with more distinct values than this are continuous (fastai's cont_cat_split)


def is_continuous_dtype(series: pd.Series) -> bool:
    """Numbers that can be averaged: ints and floats, not bools."""
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def infer_columns(df: pd.DataFrame, y_names: Sequence[str], max_card: int = MAX_CARD) -> tuple[list[str], list[str]]:
    """fastai's `cont_cat_split`: floats, and ints with more than `max_card` distinct values, are
    continuous; strings, bools, pandas categoricals and ints with few values are categorical."""
    cats, conts = [], []
    for name in df.columns:
        if name in y_names:
            continue
        col = df[name]
        if pd.api.types.is_float_dtype(col) or (
            pd.api.types.is_integer_dtype(col) and not pd.api.types.is_bool_dtype(col) and col.nunique() > max_card
        ):
            conts.append(str(name))
        elif _is_datetime(col):
            raise TableError(
                f"column {name!r} holds dates ({col.dtype}); split it into numbers (year, month, day, ...) "
                "or drop it, then name the columns with cat_names=/cont_names="
            )
        else:
            cats.append(str(name))
    return cats, conts


def check_columns(
    df: pd.DataFrame, cat_names: Sequence[str], cont_names: Sequence[str], y_names: Sequence[str]
) -> None:
    """Every named column exists, none is named twice, continuous ones hold numbers, targets have no gaps."""
    if len(df) == 0:
        raise TableError("the table has no rows; pass a DataFrame with at least one training row")
    for group, names in (("cat_names", cat_names), ("cont_names", cont_names), ("y_names", y_names)):
        if isinstance(names, str):
            raise ConfigError(f"{group} must be a list of column names, got the string {names!r}; write [{names!r}]")
        absent = [n for n in names if n not in df.columns]
        if absent:
            raise TableError(f"{group} names column(s) {absent} that the table lacks; its columns are {list(df.columns)}")
        repeated = sorted({n for n in names if list(names).count(n) > 1})
        if repeated:
            raise ConfigError(f"{group} names column(s) {repeated} more than once")
    for a, b, names_a, names_b in (
        ("cat_names", "cont_names", cat_names, cont_names),
        ("cat_names", "y_names", cat_names, y_names),
        ("cont_names", "y_names", cont_names, y_names),
    ):
        both = [n for n in names_a if n in names_b]
        if both:
            raise ConfigError(f"column(s) {both} are named in both {a} and {b}; each column has one role")
    for name in [*cat_names, *cont_names]:
        if _is_datetime(df[name]):
            raise TableError(f"column {name!r} holds dates ({df[name].dtype}); split it into numbers (year, month, ...) first")
    for name in cont_names:
        if not is_continuous_dtype(df[name]):
            raise TableError(
                f"continuous column {name!r} holds {df[name].dtype} values (e.g. {_example(df[name])!r}), not numbers; "
                "name it in cat_names, or convert it with pd.to_numeric"
            )
        n_inf = int(np.isinf(df[name].to_numpy(dtype=np.float64, na_value=np.nan)).sum())
        if n_inf:
            raise TableError(f"continuous column {name!r} has {n_inf} infinite value(s); replace them (with NaN to have them filled)")
    for name in y_names:
        n_missing = int(df[name].isna().sum())
        if n_missing:
            raise TableError(f"target column {name!r} has {n_missing} missing value(s); drop those rows or fill them")


def _is_datetime(series: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(series) or isinstance(series.dtype, pd.PeriodDtype)


def _example(series: pd.Series) -> object:
    values = series.dropna()
    return values.iloc[0] if len(values) else None
