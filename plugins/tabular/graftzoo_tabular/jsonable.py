"""Plain JSON values from numpy/pandas scalars (category values, fill values, means)."""

from __future__ import annotations

from typing import Any

import numpy as np


def plain(value: Any) -> Any:
    """A Python bool/int/float/str for a numpy or pandas scalar; other values unchanged."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def sort_values(values: list[Any]) -> list[Any]:
    """Sorted values; mixed types (ints and strings in one object column) sort by their text."""
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)
