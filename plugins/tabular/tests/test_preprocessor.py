"""TabularPreprocessor: rows in every form, input spec, targets and decoding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from graftzoo_tabular import TabularPreprocessor
from graftzoo_tabular.errors import ConfigError, TableError


@pytest.fixture
def pre(small_df: pd.DataFrame) -> TabularPreprocessor:
    return TabularPreprocessor.fit(small_df, ["color", "size"], ["age", "height"], ["label"])


def test_input_spec_describes_the_model_inputs(pre: TabularPreprocessor, small_df: pd.DataFrame) -> None:
    spec = pre.input_spec().to_json()
    assert spec.pop("fingerprint").startswith("sha256:")
    assert spec == {
        "kind": "tabular/columns", "cat_names": ["color", "size", "age_na"], "cardinalities": [4, 4, 3],
        "cont_names": ["age", "height"], "n_cont": 2,
    }
    # the fingerprint follows the fitted feature procs, not the target
    other_target = TabularPreprocessor.fit(small_df, ["color", "size"], ["age", "height"])  # no target
    assert other_target.input_spec() == pre.input_spec()
    other_rows = TabularPreprocessor.fit(small_df.iloc[:6], ["color", "size"], ["age", "height"], ["label"])
    assert other_rows.input_spec().params["fingerprint"] != pre.input_spec().params["fingerprint"]


def test_dict_series_and_dataframe_rows_encode_alike(pre: TabularPreprocessor, small_df: pd.DataFrame) -> None:
    x_cat, x_cont = pre(small_df)
    assert x_cat.dtype == torch.int64 and x_cont.dtype == torch.float32
    assert x_cat.shape == (8, 3) and x_cont.shape == (8, 2)
    row = small_df.iloc[3]
    for rows in (row.to_dict(), row, small_df.iloc[[3]], [row.to_dict()]):
        one_cat, one_cont = pre(rows)
        assert torch.equal(one_cat, x_cat[3:4]) and torch.allclose(one_cont, x_cont[3:4])


def test_numbers_given_as_text_in_a_row_are_read(pre: TabularPreprocessor, small_df: pd.DataFrame) -> None:
    row = {**small_df.iloc[0].to_dict(), "age": "20", "height": "1.5"}
    assert torch.allclose(pre(row)[1], pre(small_df.iloc[[0]])[1])


def test_absent_columns_are_named(pre: TabularPreprocessor) -> None:
    with pytest.raises(TableError, match=r"\['size', 'height'\]"):
        pre({"color": "red", "age": 3.0})


def test_text_in_a_continuous_column_is_named(pre: TabularPreprocessor) -> None:
    with pytest.raises(TableError, match="'age'"):
        pre({"color": "red", "size": 1, "age": "old", "height": 1.0})


def test_rows_of_an_unknown_form_are_refused(pre: TabularPreprocessor) -> None:
    with pytest.raises(TableError, match="dict"):
        pre(np.zeros((2, 4)))


def test_classification_targets_and_decoding(pre: TabularPreprocessor, small_df: pd.DataFrame) -> None:
    assert pre.target is not None and pre.target.kind == "classification" and pre.target.vocab == ["no", "yes"]
    assert pre.encode_targets(small_df).tolist() == [1, 0, 1, 0, 1, 0, 1, 0]
    assert pre.decode(torch.tensor([[2.0, -1.0], [0.0, 3.0]])) == ["no", "yes"]


def test_unknown_label_in_new_rows_is_named(pre: TabularPreprocessor, small_df: pd.DataFrame) -> None:
    with pytest.raises(TableError, match="maybe"):
        pre.encode_targets(small_df.assign(label=["maybe"] * 8))


def test_regression_and_multilabel_targets() -> None:
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "a": [0.5, 1.5, 2.5], "b": [1.0, 0.0, 2.0], "p": [True, False, True], "q": [0, 1, 1]})
    reg = TabularPreprocessor.fit(df, [], ["x"], ["a", "b"])
    assert reg.target.kind == "regression" and reg.target.c == 2
    assert reg.encode_targets(df).tolist() == [[0.5, 1.0], [1.5, 0.0], [2.5, 2.0]]
    assert reg.decode(torch.tensor([[1.0, 2.0]])) == [[1.0, 2.0]]
    multi = TabularPreprocessor.fit(df, [], ["x"], ["p", "q"])
    assert multi.target.kind == "multilabel" and multi.target.vocab == ["p", "q"]
    assert multi.encode_targets(df).tolist() == [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
    assert multi.decode(torch.tensor([[3.0, -3.0], [1.0, 1.0]])) == [["p"], ["p", "q"]]
    assert multi.decode(torch.tensor([[0.4, 0.6]]), activated=True) == [["q"]]


def test_y_block_forces_the_kind() -> None:
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [1, 5, 3, 5]})
    assert TabularPreprocessor.fit(df, [], ["x"], ["y"]).target.kind == "classification"
    reg = TabularPreprocessor.fit(df, [], ["x"], ["y"], y_block="regression")
    assert reg.target.kind == "regression" and reg.encode_targets(df).flatten().tolist() == [1.0, 5.0, 3.0, 5.0]
    with pytest.raises(ConfigError, match="y_block"):
        TabularPreprocessor.fit(df, [], ["x"], ["y"], y_block="ranking")


def test_decode_rows_gives_back_the_values(pre: TabularPreprocessor, small_df: pd.DataFrame) -> None:
    rows = pre.decode_rows(*pre(small_df))
    assert rows["color"].tolist() == ["red", "blue", "#na#", "red", "green", "blue", "red", "green"]
    assert rows["height"].to_numpy() == pytest.approx(small_df["height"].to_numpy(), rel=1e-5)
    assert rows["age_na"].tolist() == [False, True, False, False, True, False, False, False]


def test_infinite_numbers_in_new_rows_are_named(pre: TabularPreprocessor) -> None:
    with pytest.raises(TableError, match="'height'.*infinite"):
        pre({"color": "red", "size": 1, "age": 3.0, "height": float("inf")})
