"""Small tables for the tabular tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread: None) -> None:
    """Every test here on one torch thread, seed 0 (graftzoo.testing's fixture)."""


@pytest.fixture
def small_df() -> pd.DataFrame:
    """8 rows: a string column with a gap, an int category, two floats (one with gaps), a string target."""
    return pd.DataFrame({
        "color": ["red", "blue", None, "red", "green", "blue", "red", "green"],
        "size": [1, 2, 3, 1, 2, 3, 1, 2],
        "age": [20.0, np.nan, 40.0, 30.0, np.nan, 50.0, 60.0, 10.0],
        "height": [1.5, 1.6, 1.7, 1.8, 1.9, 2.0, 2.1, 2.2],
        "label": ["yes", "no", "yes", "no", "yes", "no", "yes", "no"],
    })
