"""Checks of a stored preprocessing state or input spec: a saved head is untrusted input.

Each helper returns the value in the expected type or raises a ConfigError naming the key
(`where`) and what it must be, before anything is sized from it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from graftzoo_tabular.errors import ConfigError

MAX_COLUMNS = 10_000  # feature (or target) columns of one table
MAX_NAME = 512  # characters of a column name
MAX_CATEGORIES = 1_000_000  # categories of one column, `#na#` included
MAX_TOTAL_CATEGORIES = 4_000_000  # categories of all columns together
MAX_VALUE = 1_000  # characters of a category value or class name
MAX_CLASSES = 1_000_000


def mapping(value: Any, where: str, keys: set[str]) -> Mapping[str, Any]:
    """A JSON object holding exactly `keys`."""
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a JSON object, got {type(value).__name__}")
    missing, unknown = sorted(keys - set(value)), sorted(str(k) for k in set(value) - keys)
    if missing or unknown:
        raise ConfigError(f"{where} lacks keys {missing} / has unknown keys {unknown[:5]}; its keys are {sorted(keys)}")
    return value


def names(value: Any, where: str, max_items: int = MAX_COLUMNS) -> list[str]:
    """A list of distinct, non-empty column names."""
    if not isinstance(value, list) or len(value) > max_items:
        raise ConfigError(f"{where} must be a list of at most {max_items} column names, got {_what(value)}")
    bad = [v for v in value if not isinstance(v, str) or not 0 < len(v) <= MAX_NAME]
    if bad:
        raise ConfigError(f"{where} holds {_what(bad[0])}; each entry must be a column name of 1 to {MAX_NAME} characters")
    if len(set(value)) != len(value):
        raise ConfigError(f"{where} names a column twice")
    return list(value)


def boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false, got {_what(value)}")
    return value


def integer(value: Any, where: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigError(f"{where} must be an integer from {low} to {high}, got {_what(value)}")
    return value


def number(value: Any, where: str, positive: bool = False) -> float:
    """A finite number (a JSON int or float)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or (positive and value <= 0):
        raise ConfigError(f"{where} must be a finite {'positive ' if positive else ''}number, got {_what(value)}")
    return float(value)


def numbers_by_column(value: Any, where: str, columns: list[str], positive: bool = False) -> dict[str, float]:
    """`{column: number}` for exactly `columns`."""
    found = mapping(value, where, set(columns))
    return {name: number(found[name], f"{where}[{name!r}]", positive) for name in columns}


def category_values(value: Any, where: str, max_items: int = MAX_CATEGORIES) -> list[Any]:
    """A list of distinct JSON scalars (strings, numbers, booleans)."""
    if not isinstance(value, list) or len(value) > max_items:
        raise ConfigError(f"{where} must be a list of at most {max_items} values, got {_what(value)}")
    for item in value:
        ok = isinstance(item, (bool, int)) or (isinstance(item, str) and len(item) <= MAX_VALUE) or (
            isinstance(item, float) and math.isfinite(item))
        if not ok:
            raise ConfigError(f"{where} holds {_what(item)}; values must be strings (at most {MAX_VALUE} characters), numbers or booleans")
    if len({(type(v).__name__, v) for v in value}) != len(value):
        raise ConfigError(f"{where} holds a value twice")
    return list(value)


def _what(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'...' if len(text) > 60 else ''}"
