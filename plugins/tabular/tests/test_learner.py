"""tabular_learner trains on small shipped tables above a trivial baseline and predicts from raw rows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_breast_cancer, load_diabetes

from graftzoo_tabular import TabularDataLoaders, TabularPreprocessor, tabular_config, tabular_learner
from graftzoo_tabular.errors import ConfigError


@pytest.fixture(scope="module")
def cancer() -> pd.DataFrame:
    df = load_breast_cancer(as_frame=True).frame
    df["target"] = df["target"].map({0: "malignant", 1: "benign"})
    df.loc[::9, "mean radius"] = np.nan
    return df


def test_classification_beats_the_majority_class(cancer: pd.DataFrame) -> None:
    torch.manual_seed(0)
    dls = TabularDataLoaders.from_df(cancer, "target", seed=0, bs=64, device="cpu")
    learn = tabular_learner(dls, layers=[32, 16], quiet=True)
    assert len(learn.param_lists) == 2
    learn.fit_one_cycle(4, 1e-2)
    _, accuracy = learn.validate()
    valid_labels = cancer["target"].iloc[dls.valid_idx]
    majority = valid_labels.value_counts(normalize=True).max()
    assert accuracy > majority + 0.15 and accuracy > 0.9

    row = cancer.drop(columns="target").iloc[dls.valid_idx[0]].to_dict()
    label, index, probs = learn.predict(row)
    assert label in ("benign", "malignant") and label == dls.vocab[int(index)]
    assert probs.shape == (2,) and float(probs.sum()) == pytest.approx(1.0, abs=1e-5)
    label_df, _, probs_df = learn.predict(cancer.drop(columns="target").iloc[[dls.valid_idx[0]]])
    assert label_df == label and torch.allclose(probs_df, probs)

    preds, targs = learn.get_preds(dl=dls.test_dl(cancer.iloc[dls.valid_idx]))
    assert float((preds.argmax(1) == targs).float().mean()) == pytest.approx(accuracy, abs=1e-6)
    # decoding from the preprocessor's JSON state alone, as a fresh process would
    fresh = TabularPreprocessor.from_state(json.loads(json.dumps(dls.preprocessor.state())))
    assert fresh.decode(preds[:5], activated=True) == dls.preprocessor.decode(preds[:5], activated=True)
    with torch.no_grad():
        learn.model.eval()
        again = learn.model(*fresh(cancer.iloc[dls.valid_idx[:5]])).softmax(-1)
    assert torch.allclose(again, preds[:5], atol=1e-6)


def test_regression_beats_the_mean() -> None:
    torch.manual_seed(0)
    df = load_diabetes(as_frame=True, scaled=False).frame
    dls = TabularDataLoaders.from_df(df, "target", cat_names=["sex"], cont_names=[c for c in df.columns if c not in ("sex", "target")], seed=0, bs=32, device="cpu")
    assert dls.preprocessor.target.kind == "regression" and dls.c == 1
    learn = tabular_learner(dls, layers=[32, 16], y_range=[0, 380], quiet=True)
    learn.fit_one_cycle(8, 3e-2)
    preds, targs = learn.get_preds()
    rmse = float((preds - targs).pow(2).mean().sqrt())
    baseline = float((targs - float(df["target"].iloc[dls.train_idx].mean())).pow(2).mean().sqrt())
    assert rmse < 0.85 * baseline
    value, _, _ = learn.predict(df.drop(columns="target").iloc[0].to_dict())
    assert isinstance(value, list) and 0 < value[0] < 380


def test_multilabel_learns_two_flags() -> None:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    df = pd.DataFrame({"x0": x[:, 0], "x1": x[:, 1], "group": rng.choice(["u", "v"], 400)})
    df["pos0"], df["v"] = x[:, 0] > 0, df["group"] == "v"
    dls = TabularDataLoaders.from_df(df, ["pos0", "v"], cat_names=["group"], cont_names=["x0", "x1"], seed=0, device="cpu")
    assert dls.vocab == ["pos0", "v"]
    learn = tabular_learner(dls, layers=[16], quiet=True)
    learn.fit_one_cycle(5, 2e-2)
    _, acc = learn.validate()
    assert acc > 0.9
    labels, _, _ = learn.predict({"x0": 2.0, "x1": 0.0, "group": "v"})
    assert labels == ["pos0", "v"]


def test_config_and_emb_szs_reach_the_model(cancer: pd.DataFrame) -> None:
    dls = TabularDataLoaders.from_df(cancer, "target", seed=0, device="cpu")
    learn = tabular_learner(dls, layers=[8], emb_szs={"mean radius_na": 5}, config=tabular_config(ps=0.3, bn_final=True), quiet=True)
    assert learn.model.body.net.embeds.dims == [5]
    assert any(isinstance(m, torch.nn.Dropout) and m.p == 0.3 for m in learn.model.body.modules())
    assert isinstance(learn.model.head.out[-1], torch.nn.BatchNorm1d)
    with pytest.raises(ConfigError, match="dropout"):
        tabular_config(dropout=0.1)
