"""A tabular model through core's one path: save_head, the local hub, load_head and predict in a
fresh process, `graftzoo predict --csv`, forged artifacts, and a trained body serving a new target."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

import graftzoo
from graftzoo.artifacts import load_head, push_head
from graftzoo.errors import ArtifactError, ConfigError, WeightsError
from graftzoo.registry.cli import main as cli_main
from graftzoo_tabular import TabularDataLoaders, tabular_learner, tabular_model

LAYERS = [16, 8]


def houses(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """A small table: two categorical columns, two continuous (one with gaps), and three kinds of target."""
    rng = np.random.default_rng(seed)
    city = rng.choice(["paris", "lyon", "nice"], n)
    rooms = rng.integers(1, 6, n)
    area = rng.normal(60, 20, n)
    age = rng.normal(30, 10, n)
    price = area * np.where(city == "paris", 2.0, 1.0) + 5 * rooms + rng.normal(0, 5, n)
    df = pd.DataFrame({"city": city, "rooms": rooms, "area": area, "age": age})
    df.loc[::7, "age"] = np.nan
    df["price"] = price
    df["band"] = np.where(price > np.median(price), "high", "low")
    df["big"], df["old"] = area > 60, age > 30
    return df


FEATURES = ["city", "rooms", "area", "age"]
KW: dict[str, Any] = {"cat_names": ["city", "rooms"], "cont_names": ["area", "age"], "seed": 0, "device": "cpu"}


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return houses()


@pytest.fixture(scope="module")
def learn(df: pd.DataFrame) -> Any:
    torch.manual_seed(0)
    dls = TabularDataLoaders.from_df(df, "band", bs=32, **KW)
    learner = tabular_learner(dls, layers=LAYERS, quiet=True)
    learner.fit_one_cycle(4, 2e-2)
    assert learner.validate()[1] > 0.8
    return learner


def rows(df: pd.DataFrame, n: int = 3) -> list[dict[str, Any]]:
    return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
            for r in df[FEATURES].iloc[:n].to_dict("records")]


def fresh_python(code: str, home: Path) -> str:
    """stdout of `code` run by a new interpreter with GRAFTZOO_HOME=`home`."""
    env = {**os.environ, "GRAFTZOO_HOME": str(home), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
def test_a_pulled_head_predicts_rows_like_the_learner_in_a_fresh_process(
    learn: Any, df: pd.DataFrame, graftzoo_home: Path, tmp_path: Path
) -> None:
    expected = [learn.predict(r) for r in rows(df)]
    folder = graftzoo.save_head(learn, tmp_path / "houses")
    ref = push_head(folder, "alice/houses").ref
    code = f"""
import json, pandas as pd, graftzoo
model = graftzoo.load_head({ref!r})
rows = json.loads({json.dumps(rows(df))!r})
label, probs = model.predict(rows[0])
labels, batch = model.predict(pd.DataFrame(rows))
print(json.dumps({{"label": label, "probs": probs.tolist(), "labels": labels, "batch": batch.tolist(),
                  "preprocessor": type(model.preprocessor).__name__}}))
"""
    got = json.loads(fresh_python(code, graftzoo_home))
    assert got["preprocessor"] == "TabularPreprocessor"
    assert got["label"] == expected[0][0] and got["labels"] == [e[0] for e in expected]
    torch.testing.assert_close(torch.tensor(got["probs"]), expected[0][2], atol=1e-5, rtol=0)
    torch.testing.assert_close(torch.tensor(got["batch"]), torch.stack([e[2] for e in expected]), atol=1e-5, rtol=0)
    assert set(got["labels"]) <= {"high", "low"}


@pytest.mark.slow
def test_graftzoo_predict_reads_csv_rows_in_a_fresh_process(learn: Any, df: pd.DataFrame, graftzoo_home: Path, tmp_path: Path) -> None:
    folder = graftzoo.save_head(learn, tmp_path / "houses")
    ref = push_head(folder, "alice/houses").ref
    csv = tmp_path / "rows.csv"
    df[FEATURES].iloc[:5].to_csv(csv, index=False)  # the gap in `age` is an empty cell
    env = {**os.environ, "GRAFTZOO_HOME": str(graftzoo_home), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "graftzoo", "predict", ref, "--csv", str(csv), "--json"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout)
    expected = [learn.predict(r) for r in rows(df, 5)]
    assert [r["row"] for r in out] == list(range(5))
    assert [r["label"] for r in out] == [e[0] for e in expected]
    for row, (label, _, probs) in zip(out, expected):
        assert row["top_k"][0]["label"] == label
        assert row["top_k"][0]["prob"] == pytest.approx(float(probs.max()), abs=1e-5)


def test_predict_csv_errors_are_clear(learn: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = graftzoo.save_head(learn, tmp_path / "houses")
    assert cli_main(["predict", str(folder), "--csv", str(tmp_path / "absent.csv")]) == 2
    assert "cannot read the CSV file" in capsys.readouterr().err
    assert cli_main(["predict", str(folder)]) == 2
    assert "--csv" in capsys.readouterr().err
    (tmp_path / "other.csv").write_text("colour,weight\nred,3\n")
    assert cli_main(["predict", str(folder), "--csv", str(tmp_path / "other.csv")]) == 2
    assert "lack column(s)" in capsys.readouterr().err


def test_regression_and_multilabel_heads_decode_like_the_learner(df: pd.DataFrame, tmp_path: Path) -> None:
    torch.manual_seed(0)
    for y_names in (["price"], ["big", "old"]):
        dls = TabularDataLoaders.from_df(df, y_names, bs=64, **KW)
        learn = tabular_learner(dls, layers=[8], quiet=True)
        learn.fit(1, 1e-2)
        loaded = load_head(graftzoo.save_head(learn, tmp_path / "_".join(y_names)))
        for row in rows(df):
            label, probs = loaded.predict(row)
            expected, _, expected_probs = learn.predict(row)
            if y_names == ["price"]:  # regression: the predicted number, as a list of one float per target
                assert isinstance(label, list) and len(label) == 1 and isinstance(label[0], float)
                assert label == pytest.approx(expected, abs=1e-4)
            else:  # multi-label: the names of the targets that are on
                assert isinstance(label, list) and set(label) <= {"big", "old"} and label == expected
            torch.testing.assert_close(probs, expected_probs, atol=1e-5, rtol=0)
    assert loaded.vocab == ["big", "old"]


def test_a_model_without_its_preprocessor_says_how_to_get_one(df: pd.DataFrame) -> None:
    dls = TabularDataLoaders.from_df(df, "band", **KW)
    model = tabular_model(dls.preprocessor.input_spec(), 2, body_kwargs={"layers": [4]})
    with pytest.raises(ConfigError, match="TabularDataLoaders"):
        model.predict(rows(df)[0])
    model.preprocessor = dls.preprocessor
    model.vocab = dls.vocab
    assert model.predict(rows(df)[0])[0] in ("high", "low")


def test_the_model_card_lists_the_columns_it_expects(learn: Any, tmp_path: Path) -> None:
    card = (graftzoo.save_head(learn, tmp_path / "houses") / "README.md").read_text()
    assert 'cat_names: ["city", "rooms"]' in card and 'cont_names: ["area", "age"]' in card
    assert '"vocab": ["high", "low"]' in card and "2 classes: `high`, `low`" in card


def _forge(folder: Path, change: Any) -> None:
    path = folder / "graftzoo.json"
    config = json.loads(path.read_text())
    change(config)
    path.write_text(json.dumps(config))


def _state(config: dict[str, Any]) -> dict[str, Any]:
    state: dict[str, Any] = config["preprocessor"]["state"]
    return state


def _proc(config: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in _state(config)["procs"] if p["proc"] == name)


FORGERIES: dict[str, tuple[Any, str]] = {
    "cat_names not a list": (lambda c: _state(c).update(cat_names="city"), "cat_names"),
    "a column name of the wrong type": (lambda c: _state(c).update(cont_names=["area", 7]), "cont_names"),
    "an unknown key": (lambda c: _state(c).update(loader="os:system"), "unknown keys"),
    "a proc naming code": (lambda c: _state(c)["procs"].__setitem__(0, {"proc": "os:system"}), "unknown tabular proc"),
    "a huge category list": (lambda c: _proc(c, "Categorify")["classes"].update(city=["#na#", *range(1_000_001)]), "at most 1000000"),
    "classes without #na#": (lambda c: _proc(c, "Categorify")["classes"].update(city=["paris", "lyon"]), "'#na#'"),
    "a zero std": (lambda c: _proc(c, "Normalize")["stds"].update(area=0), "positive"),
    "a mean as text": (lambda c: _proc(c, "Normalize")["means"].update(area="60"), "means"),
    "classes for other columns": (lambda c: _proc(c, "Categorify")["classes"].pop("rooms"), "exactly the columns"),
    "a target of unknown kind": (lambda c: _state(c)["target"].update(kind="exec"), "kind"),
    "a huge cardinality": (lambda c: c["inputs"]["cardinalities"].__setitem__(0, 10**9), "cardinality of 'city'"),
    "a cardinality as text": (lambda c: c["inputs"]["cardinalities"].__setitem__(0, "4"), "cardinality of 'city'"),
    "a cardinality missing": (lambda c: c["inputs"]["cardinalities"].pop(), "one int per categorical column"),
    "cardinalities the tensors do not have": (lambda c: c["inputs"]["cardinalities"].__setitem__(0, 40), "shape mismatches"),
    "layers beyond the schema": (lambda c: c["body_kwargs"].update(layers=[100_000]), "layers"),
    "a body kwarg naming code": (lambda c: c["body_kwargs"].update(factory="os:system"), "factory"),
    "layers too large together": (lambda c: c["body_kwargs"].update(layers=[16384] * 4), "parameters"),
}


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_a_forged_graftzoo_json_is_an_artifact_error(name: str, learn: Any, tmp_path: Path) -> None:
    change, message = FORGERIES[name]
    folder = graftzoo.save_head(learn, tmp_path / "houses")
    _forge(folder, change)
    with pytest.raises(ArtifactError, match=message):
        load_head(folder)


def test_a_preprocessor_that_does_not_fit_the_body_is_refused_at_predict(learn: Any, df: pd.DataFrame, tmp_path: Path) -> None:
    """A state that is valid on its own but has more categories than the body: a clear error, not an index error."""
    folder = graftzoo.save_head(learn, tmp_path / "houses")
    _forge(folder, lambda c: _proc(c, "Categorify")["classes"].update(city=["#na#", "lyon", "nice", "paris", "rome"]))
    model = load_head(folder)
    with pytest.raises(ConfigError, match="'city'.*does not match this body"):
        model.predict({**rows(df)[0], "city": "rome"})


@pytest.mark.parametrize(("body_kwargs", "message"), [
    ({"layers": [20_000]}, "layers"),
    ({"layers": [4] * 17}, "layers"),
    ({"emb_szs": {"city": 601}}, "emb_szs"),
    ({"ps": 1.5}, "ps"),
    ({"dropout": 0.1}, "dropout"),
    ({"layers": [16384, 16384, 16384]}, "parameters"),
])
def test_body_kwargs_outside_the_schema_are_refused(df: pd.DataFrame, body_kwargs: dict[str, Any], message: str) -> None:
    spec = TabularDataLoaders.from_df(df, "band", **KW).preprocessor.input_spec()
    with pytest.raises(ConfigError, match=message):
        tabular_model(spec, 2, body_kwargs=body_kwargs)
    with pytest.raises(ConfigError, match="y_range"):
        tabular_model(spec, 1, "core/regression", head_kwargs={"y_range": [0, 1, 2]})


def test_a_body_trained_for_one_target_serves_a_head_for_another(learn: Any, df: pd.DataFrame, tmp_path: Path) -> None:
    first = graftzoo.save_head(learn, tmp_path / "band")
    dls = TabularDataLoaders.from_df(df, "price", bs=32, features=learn.dls.preprocessor, seed=0, device="cpu")
    assert dls.preprocessor.input_spec() == learn.dls.preprocessor.input_spec()
    assert dls.preprocessor.target is not None and dls.preprocessor.target.kind == "regression"
    with pytest.raises(ConfigError, match="features= brings its own columns"):
        TabularDataLoaders.from_df(df, "price", cat_names=["city"], features=learn.dls.preprocessor)
    torch.manual_seed(0)
    second = tabular_learner(dls, layers=LAYERS, y_range=[0, 250], weights=f"head://{first}", quiet=True)
    for a, b in zip(learn.model.body.state_dict().values(), second.model.body.state_dict().values()):
        assert torch.equal(a.cpu(), b.cpu())
    second.freeze()  # the body's features, learnt for `band`, serve `price`: only the new head (and BatchNorm) train
    second.fit_one_cycle(5, 1e-1)
    preds, targets = second.get_preds()
    baseline = float((targets - targets.mean()).pow(2).mean().sqrt())
    assert float((preds - targets).pow(2).mean().sqrt()) < 0.5 * baseline
    saved = graftzoo.save_head(second, tmp_path / "price")
    config = json.loads((saved / "graftzoo.json").read_text())
    assert config["body_weights"] == f"head://{first}"
    assert config["training"]["body"].startswith("frozen except its normalization layers")  # only BatchNorm stored again
    row = rows(df)[0]
    value, _ = load_head(saved).predict(row)
    assert value == pytest.approx(second.predict(row)[0], abs=1e-4)
    # a table preprocessed otherwise (other training rows: other means) does not fit that body
    other = TabularDataLoaders.from_df(df.iloc[:300], "price", bs=32, **KW)
    with pytest.raises(WeightsError, match="was trained for inputs"):
        tabular_learner(other, layers=LAYERS, weights=f"head://{first}", quiet=True)
