"""Items and labels from a table (a pandas DataFrame or a CSV file), as fastai's `from_df` reads them.

File names are `path/folder/<fn_col value><suff>`; labels come from `label_col` (one column, split on
`label_delim` for tags; several columns: 0/1 flags are tags named by the columns, numbers are
regression values); `valid_col` (booleans) marks the validation rows, else `valid_pct` at random.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from graftzoo_vision.data.errors import ConfigError, DataError, LabelError
from graftzoo_vision.data.sources import LabeledSplit, split_targets
from graftzoo_vision.data.splits import random_split
from graftzoo_vision.data.targets import MULTI, REGRESSION, Targets, check_y_block, make_targets

Column = int | str


def column(df: Any, col: Column, what: str) -> list[Any]:
    """The values of column `col` (a position for an int, a name for a str), as Python objects."""
    if isinstance(col, bool) or not isinstance(col, (int, str)):
        raise ConfigError(f"{what} must be a column name (str) or position (int), got {col!r}.")
    if isinstance(col, int):
        if not -len(df.columns) <= col < len(df.columns):
            raise ConfigError(f"{what}={col} is out of range for a table of {len(df.columns)} columns {list(df.columns)}.")
        return df.iloc[:, col].tolist()
    if col not in df.columns:
        raise ConfigError(f"{what}={col!r} is not a column of the table; its columns are {list(df.columns)}.")
    return df[col].tolist()


def _column_name(df: Any, col: Column) -> str:
    return str(df.columns[col]) if isinstance(col, int) else str(col)


def table_files(df: Any, path: str | Path, fn_col: Column, folder: str | None, suff: str) -> list[Path]:
    """`path/folder/<name><suff>` for every row."""
    base = Path(path) / folder if folder is not None else Path(path)
    names = column(df, fn_col, "fn_col")
    for i, name in enumerate(names):
        if not isinstance(name, str) or not name:
            raise DataError(f"row {i} of fn_col has {name!r}, not a file name; fix the table or pick another fn_col.")
    return [base / f"{name}{suff}" for name in names]


def table_targets(
    df: Any,
    label_col: Column | Sequence[Column],
    label_delim: str | None,
    y_block: str | None,
    vocab: Sequence[str] | None,
) -> Targets:
    """The rows' targets from one label column, or from several (flags or numbers)."""
    if not isinstance(label_col, (int, str)):
        label_col = list(label_col)
        if len(label_col) == 1:
            return table_targets(df, label_col[0], label_delim, y_block, vocab)
        rows = [list(r) for r in zip(*(column(df, c, "label_col") for c in label_col))]
        names = [_column_name(df, c) for c in label_col]
        kind = check_y_block(y_block)
        flags = all(v in (0, 1) for row in rows for v in row)
        if kind == MULTI or (kind is None and flags):
            if not flags:
                raise LabelError(f"multi-label columns {names} must hold 0/1 or True/False flags.")
            return make_targets([[n for n, v in zip(names, row) if v] for row in rows], MULTI, vocab or names)
        return make_targets([[float(v) for v in row] for row in rows], REGRESSION, vocab or names)
    return make_targets(column(df, label_col, "label_col"), y_block, vocab, label_delim)


def valid_rows(df: Any, valid_col: Column) -> list[int]:
    """The rows whose `valid_col` is true (booleans, 0/1, or the strings 'True'/'False')."""
    marks = column(df, valid_col, "valid_col")
    rows: list[int] = []
    for i, mark in enumerate(marks):
        text = str(mark).strip().lower()
        if text not in ("true", "false", "1", "0", "1.0", "0.0"):
            raise DataError(f"row {i} of valid_col has {mark!r}; it must be True/False (or 1/0).")
        if text in ("true", "1", "1.0"):
            rows.append(i)
    return rows


def from_df_split(
    df: Any,
    path: str | Path,
    *,
    fn_col: Column,
    label_col: Column | Sequence[Column],
    valid_col: Column | None,
    label_delim: str | None,
    folder: str | None,
    suff: str,
    valid_pct: float,
    seed: int,
    vocab: Sequence[str] | None,
    y_block: str | None,
) -> LabeledSplit:
    """Items, targets and the train/valid split that a table describes."""
    if not hasattr(df, "iloc") or not hasattr(df, "columns"):
        raise ConfigError(f"from_df takes a pandas DataFrame, got {type(df).__name__}; use from_lists for plain lists.")
    if len(df) == 0:
        raise DataError("the table has no rows; add one row per image.")
    files = table_files(df, path, fn_col, folder, suff)
    targets = table_targets(df, label_col, label_delim, y_block, vocab)
    chosen = valid_rows(df, valid_col) if valid_col is not None else random_split(len(files), valid_pct, seed)[1]
    return split_targets(files, targets, chosen)
