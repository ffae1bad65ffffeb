"""Categorify, FillMissing and Normalize against hand computations, and their JSON state."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from graftzoo_tabular import Categorify, FillMissing, Normalize, TabularPreprocessor
from graftzoo_tabular.errors import ConfigError, TableError

CATS, CONTS = ["color", "size"], ["age", "height"]


def fit(df: pd.DataFrame, procs: Sequence[Any] = (Categorify, FillMissing, Normalize), train_idx: list[int] | None = None) -> TabularPreprocessor:
    return TabularPreprocessor.fit(df, CATS, CONTS, ["label"], procs, train_idx=train_idx)


def test_categorify_maps_na_first_then_sorted_training_values(small_df: pd.DataFrame) -> None:
    pre = fit(small_df)
    classes = pre.state()["procs"][1]["classes"]
    assert classes["color"] == ["#na#", "blue", "green", "red"]
    assert classes["size"] == ["#na#", 1, 2, 3]
    x_cat, _ = pre(small_df)
    assert x_cat[:, 0].tolist() == [3, 1, 0, 3, 2, 1, 3, 2]  # None -> 0 (#na#)
    assert x_cat[:, 1].tolist() == [1, 2, 3, 1, 2, 3, 1, 2]


def test_categorify_sends_unseen_and_missing_values_to_zero(small_df: pd.DataFrame) -> None:
    pre = fit(small_df)
    rows = pd.DataFrame({"color": ["purple", None, "blue"], "size": [7, None, 3], "age": [1.0, 2.0, 3.0], "height": [1.0, 1.0, 1.0]})
    x_cat, _ = pre(rows)
    assert x_cat[:, 0].tolist() == [0, 0, 1]
    assert x_cat[:, 1].tolist() == [0, 0, 3]


def test_categorify_learns_only_training_rows(small_df: pd.DataFrame) -> None:
    pre = fit(small_df, train_idx=[0, 1, 2, 3])  # green only appears in rows 4 and 7
    assert pre.state()["procs"][1]["classes"]["color"] == ["#na#", "blue", "red"]
    assert pre(small_df)[0][4, 0].item() == 0


def test_categorify_keeps_a_pandas_categorical_order(small_df: pd.DataFrame) -> None:
    df = small_df.assign(color=pd.Categorical(small_df["color"], categories=["red", "green", "blue"]))
    pre = fit(df)
    assert pre.state()["procs"][1]["classes"]["color"] == ["#na#", "red", "green", "blue"]
    assert pre(df)[0][:, 0].tolist() == [1, 3, 0, 1, 2, 3, 1, 2]


def test_fill_missing_median_adds_na_column_and_fills(small_df: pd.DataFrame) -> None:
    pre = fit(small_df, procs=(Categorify, FillMissing))  # no Normalize: values stay readable
    median = float(np.median([20, 40, 30, 50, 60, 10]))  # 35
    assert pre.input_cat_names == ["color", "size", "age_na"]
    assert pre.cardinalities == [4, 4, 3]  # age_na: #na#, False, True
    x_cat, x_cont = pre(small_df)
    assert x_cont[:, 0].tolist() == [20.0, median, 40.0, 30.0, median, 50.0, 60.0, 10.0]
    assert x_cat[:, 2].tolist() == [1, 2, 1, 1, 2, 1, 1, 1]  # False -> 1, True -> 2
    assert x_cont[:, 1].tolist() == pytest.approx(small_df["height"].tolist())


@pytest.mark.parametrize(("strategy", "fill_vals", "expected"), [
    ("mode", None, 7.0),
    ("constant", {"age": -1.0}, -1.0),
    ("constant", None, 0.0),
])
def test_fill_missing_strategies(strategy: str, fill_vals: dict | None, expected: float) -> None:
    df = pd.DataFrame({"age": [7.0, 7.0, 3.0, np.nan, 9.0], "label": [0, 1, 0, 1, 0]})
    pre = TabularPreprocessor.fit(df, [], ["age"], ["label"], (FillMissing(strategy, fill_vals=fill_vals), Categorify))
    assert pre(df)[1][3, 0].item() == expected


def test_fill_missing_without_add_col_adds_nothing(small_df: pd.DataFrame) -> None:
    pre = fit(small_df, procs=(Categorify, FillMissing(add_col=False)))
    assert pre.input_cat_names == CATS
    assert pre(small_df)[1][1, 0].item() == 35.0


def test_missing_value_in_a_column_complete_in_training_gets_the_training_fill(small_df: pd.DataFrame) -> None:
    pre = fit(small_df, procs=(Categorify, FillMissing))
    median_height = float(small_df["height"].median())
    row = {"color": "red", "size": 1, "age": 33.0, "height": None}
    x_cat, x_cont = pre(row)
    assert x_cont[0, 1].item() == pytest.approx(median_height)
    assert x_cat.shape == (1, 3)  # no height_na column: the model has none
    assert x_cat[0, 2].item() == 1  # age present: age_na False


def test_normalize_uses_training_mean_and_population_std(small_df: pd.DataFrame) -> None:
    train = [0, 1, 2, 3, 4]
    pre = fit(small_df, train_idx=train)
    heights = small_df["height"].to_numpy()[train]
    mean, std = heights.mean(), heights.std(ddof=0) + 1e-7
    _, x_cont = pre(small_df)
    assert x_cont[:, 1].numpy() == pytest.approx((small_df["height"].to_numpy() - mean) / std, rel=1e-5)
    ages = small_df["age"].iloc[train].fillna(30.0).to_numpy()  # median of 20, 40, 30 is 30
    assert x_cont[:, 0].numpy()[:5] == pytest.approx((ages - ages.mean()) / (ages.std() + 1e-7), rel=1e-5)


def test_procs_run_in_fastai_order_whatever_order_given(small_df: pd.DataFrame) -> None:
    a = fit(small_df, procs=(Normalize, Categorify, FillMissing))
    b = fit(small_df, procs=(FillMissing, Categorify, Normalize))
    for x, y in zip(a(small_df), b(small_df)):
        assert torch.equal(x, y)


def test_state_round_trips_through_json(small_df: pd.DataFrame) -> None:
    pre = fit(small_df, procs=(Categorify, FillMissing("mode"), Normalize))
    text = json.dumps(pre.state())
    again = TabularPreprocessor.from_state(json.loads(text))
    rows = pd.concat([small_df, pd.DataFrame({"color": ["purple"], "size": [9], "age": [None], "height": [None], "label": ["yes"]})])
    for x, y in zip(pre(rows), again(rows)):
        assert torch.equal(x, y)
    assert again.state() == pre.state()
    assert again.input_spec() == pre.input_spec()


def test_state_naming_an_unknown_proc_is_refused(small_df: pd.DataFrame) -> None:
    state = fit(small_df).state()
    state["procs"][0] = {"proc": "os:system"}
    with pytest.raises(ConfigError, match="unknown tabular proc"):
        TabularPreprocessor.from_state(state)


def test_categorical_columns_without_categorify_are_an_error(small_df: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="Categorify"):
        fit(small_df, procs=(FillMissing, Normalize))


def test_gaps_without_fill_missing_are_an_error_naming_the_column(small_df: pd.DataFrame) -> None:
    with pytest.raises(TableError, match="'age'"):
        fit(small_df, procs=(Categorify, Normalize))


def test_a_column_empty_in_training_cannot_be_filled() -> None:
    df = pd.DataFrame({"a": [np.nan, np.nan, 1.0], "label": [0, 1, 0]})
    with pytest.raises(TableError, match="'a' has no values"):
        TabularPreprocessor.fit(df, [], ["a"], ["label"], train_idx=[0, 1])
