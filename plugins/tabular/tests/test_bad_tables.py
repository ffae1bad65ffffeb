"""Tables that cannot be used get an error naming the culprit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from graftzoo_tabular import TabularDataLoaders
from graftzoo_tabular.errors import ConfigError, TableError


def test_text_in_a_continuous_column(small_df: pd.DataFrame) -> None:
    with pytest.raises(TableError, match="'color'.*not numbers"):
        TabularDataLoaders.from_df(small_df, "label", cat_names=["size"], cont_names=["color", "age"], seed=0)


def test_missing_target_values(small_df: pd.DataFrame) -> None:
    df = small_df.assign(label=["yes", None, "no", "yes", "no", "no", "yes", "no"])
    with pytest.raises(TableError, match="target column 'label' has 1 missing"):
        TabularDataLoaders.from_df(df, "label", seed=0)


def test_empty_table(small_df: pd.DataFrame) -> None:
    with pytest.raises(TableError, match="no rows"):
        TabularDataLoaders.from_df(small_df.iloc[:0], "label", cat_names=["color"], cont_names=["age"])


def test_column_named_categorical_and_continuous(small_df: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"\['age'\].*cat_names and cont_names"):
        TabularDataLoaders.from_df(small_df, "label", cat_names=["color", "age"], cont_names=["age"], seed=0)


def test_target_named_as_a_feature(small_df: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"\['label'\].*y_names"):
        TabularDataLoaders.from_df(small_df, "label", cat_names=["label"], cont_names=["age"], seed=0)


def test_unknown_columns(small_df: pd.DataFrame) -> None:
    with pytest.raises(TableError, match="'weight'"):
        TabularDataLoaders.from_df(small_df, "label", cat_names=["color"], cont_names=["weight"], seed=0)
    with pytest.raises(TableError, match="'price'"):
        TabularDataLoaders.from_df(small_df, "price", seed=0)


def test_dates_must_be_split_first(small_df: pd.DataFrame) -> None:
    df = small_df.assign(when=pd.date_range("2020-01-01", periods=8))
    with pytest.raises(TableError, match="'when' holds dates"):
        TabularDataLoaders.from_df(df, "label", seed=0)


def test_a_string_where_a_list_of_names_belongs(small_df: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"\['color'\]"):
        TabularDataLoaders.from_df(small_df, "label", cat_names="color", cont_names=["age"], seed=0)


def test_valid_idx_outside_the_table(small_df: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="positions"):
        TabularDataLoaders.from_df(small_df, "label", valid_idx=[1, 99], seed=0)


def test_bools_are_not_continuous() -> None:
    df = pd.DataFrame({"flag": [True, False, True], "y": [0.1, 0.2, 0.3]})
    with pytest.raises(TableError, match="'flag'"):
        TabularDataLoaders.from_df(df, "y", cat_names=[], cont_names=["flag"], seed=0)


def test_mixed_target_columns_need_y_block() -> None:
    df = pd.DataFrame({"x": np.arange(4.0), "a": ["u", "v", "u", "v"], "b": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(ConfigError, match="y_block"):
        TabularDataLoaders.from_df(df, ["a", "b"], cat_names=[], cont_names=["x"], seed=0)


def test_infinite_values_in_a_continuous_column(small_df: pd.DataFrame) -> None:
    df = small_df.assign(height=[1.0, np.inf, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    with pytest.raises(TableError, match="'height' has 1 infinite"):
        TabularDataLoaders.from_df(df, "label", cat_names=["color"], cont_names=["height"], seed=0)
