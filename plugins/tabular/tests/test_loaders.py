"""TabularDataLoaders: batches are slices of the preprocessed table; splits, inference, test_dl, show_batch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from graftzoo_tabular import TabularDataLoaders
from graftzoo_tabular.batches import TensorBatches


@pytest.fixture
def table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 50
    return pd.DataFrame({
        "city": rng.choice(["a", "b", "c"], n),
        "n_rooms": rng.integers(1, 5, n),
        "area": rng.normal(80, 20, n),
        "year": rng.integers(1900, 2020, n),
        "sold": rng.choice(["fast", "slow"], n),
    })


def test_dtype_inference_follows_cont_cat_split(table: pd.DataFrame) -> None:
    dls = TabularDataLoaders.from_df(table, "sold", seed=0, device="cpu")
    assert dls.cat_names == ["city", "n_rooms"]  # strings; ints with <= 20 values
    assert dls.cont_names == ["area", "year"]  # floats; ints with > 20 values


def test_batches_are_the_preprocessed_rows(table: pd.DataFrame) -> None:
    dls = TabularDataLoaders.from_df(table, "sold", valid_idx=list(range(40, 50)), bs=8, seed=1, device="cpu")
    x_cat, x_cont = dls.preprocessor(table)
    y = dls.preprocessor.encode_targets(table)
    batches = list(dls.train)
    assert len(batches) == len(dls.train) == 5 and all(b[0].shape[0] == 8 for b in batches)
    seen_cat = torch.cat([b[0] for b in batches])
    seen_cont = torch.cat([b[1] for b in batches])
    seen_y = torch.cat([b[2] for b in batches])
    # every training row once, each batch row equal to one preprocessed row
    order = [next(i for i in range(40) if torch.equal(x_cont[i], row)) for row in seen_cont]
    assert sorted(order) == list(range(40))
    assert torch.equal(seen_cat, x_cat[order]) and torch.equal(seen_y, y[order])
    assert order != list(range(40))  # shuffled
    valid = list(dls.valid)
    assert torch.equal(torch.cat([b[1] for b in valid]), x_cont[40:])  # valid keeps its order
    assert torch.equal(torch.cat([b[2] for b in valid]), y[40:])


def test_shuffle_differs_between_epochs_and_follows_the_seed(table: pd.DataFrame) -> None:
    def first_batches(seed: int) -> list[torch.Tensor]:
        dls = TabularDataLoaders.from_df(table, "sold", bs=8, seed=seed, device="cpu")
        return [next(iter(dls.train))[1] for _ in range(2)]

    a, b = first_batches(3), first_batches(3)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], a[1])


def test_train_drops_a_partial_batch_valid_keeps_it() -> None:
    t = TensorBatches([torch.arange(10)], bs=4, shuffle=True, drop_last=True, generator=torch.Generator().manual_seed(0))
    assert len(t) == 2 and [len(b[0]) for b in t] == [4, 4]
    v = TensorBatches([torch.arange(10)], bs=4)
    assert len(v) == 3 and torch.equal(torch.cat([b[0] for b in v]), torch.arange(10))


def test_random_split_holds_out_valid_pct(table: pd.DataFrame) -> None:
    dls = TabularDataLoaders.from_df(table, "sold", valid_pct=0.2, seed=5, device="cpu")
    assert len(dls.valid_idx) == 10 and len(dls.train_idx) == 40
    assert set(dls.valid_idx).isdisjoint(dls.train_idx)
    again = TabularDataLoaders.from_df(table, "sold", valid_pct=0.2, seed=5, device="cpu")
    assert again.valid_idx == dls.valid_idx


def test_procs_see_only_training_rows(table: pd.DataFrame) -> None:
    dls = TabularDataLoaders.from_df(table, "sold", valid_idx=list(range(25)), seed=0, device="cpu")
    means = dls.preprocessor.state()["procs"][-1]["means"]
    assert means["area"] == pytest.approx(table["area"].iloc[25:].mean())


def test_test_dl_with_and_without_labels(table: pd.DataFrame) -> None:
    dls = TabularDataLoaders.from_df(table, "sold", seed=0, device="cpu")
    labelled = list(dls.test_dl(table.iloc[:7], bs=4))
    assert [len(b[0]) for b in labelled] == [4, 3]
    assert torch.equal(torch.cat([b[2] for b in labelled]), dls.preprocessor.encode_targets(table.iloc[:7]))
    unlabelled = next(iter(dls.test_dl(table.drop(columns="sold").iloc[:3])))
    assert unlabelled[2].tolist() == [0, 0, 0]


def test_show_batch_prints_decoded_rows(table: pd.DataFrame, capsys: pytest.CaptureFixture[str]) -> None:
    dls = TabularDataLoaders.from_df(table, "sold", valid_idx=list(range(40, 50)), bs=4, seed=0, device="cpu")
    rows = dls.show_batch(max_n=3, train=False)
    assert rows["city"].tolist() == table["city"].iloc[40:43].tolist()
    assert rows["area"].to_numpy() == pytest.approx(table["area"].iloc[40:43].to_numpy(), rel=1e-5)
    assert rows["sold"].tolist() == table["sold"].iloc[40:43].tolist()
    printed = capsys.readouterr().out
    assert "city" in printed and table["city"].iloc[40] in printed


def test_from_csv_reads_like_from_df(table: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "houses.csv"
    table.to_csv(path, index=False)
    a = TabularDataLoaders.from_csv(path, "sold", valid_idx=[0, 1, 2], seed=0, device="cpu")
    b = TabularDataLoaders.from_df(table, "sold", valid_idx=[0, 1, 2], seed=0, device="cpu")
    assert (a.cat_names, a.cont_names, a.vocab) == (b.cat_names, b.cont_names, b.vocab)
    assert a.preprocessor.state()["procs"][1] == b.preprocessor.state()["procs"][1]
    assert torch.allclose(next(iter(a.valid))[1], next(iter(b.valid))[1])


def test_ddp_shards_cover_every_row_once_and_step_alike() -> None:
    """`dls.distributed(rank, world_size)`: the hook the Learner uses under torchrun (one process per rank,
    each building the loaders with the same seed, simulated here by building them once per rank)."""
    import pandas as pd

    from graftzoo_tabular import TabularDataLoaders

    df = pd.DataFrame({"a": [f"c{i % 3}" for i in range(23)], "x": [float(i) for i in range(23)], "y": [i % 2 for i in range(23)]})

    def build() -> TabularDataLoaders:
        return TabularDataLoaders.from_df(df, "y", cat_names=["a"], cont_names=["x"], valid_idx=list(range(18, 23)), seed=0, bs=3)

    full_order = build().train.order().tolist()
    shards = [build().distributed(rank, 2) for rank in range(2)]
    orders = [shard.train.order().tolist() for shard in shards]
    assert orders == [full_order[0::2], full_order[1::2]]  # disjoint, together every training row once
    assert len(shards[0].train) == len(shards[1].train) == 3
    rows = [sum(int(xb[0].shape[0]) for xb in shard.train) for shard in shards]
    assert rows == [9, 9]
    valid = [shard.valid.order().tolist() for shard in shards]
    assert valid == [[0, 2, 4], [1, 3]]  # validation split without padding: exact reduced metrics
