"""fastai's constructors: from_df, from_csv, from_lists, from_path_func, from_path_re; targets of every kind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from graftzoo_vision.data import BadImageError, DataError, ImageDataLoaders, LabelError, make_targets
from graftzoo_vision.data.errors import ConfigError
from graftzoo_vision.data.synthetic import fashion_like, write_fashion_csv


@pytest.fixture
def fashion(tmp_path: Path) -> Path:
    write_fashion_csv(tmp_path, n=10, seed=3)
    return tmp_path


def _names(items: list[Path]) -> list[str]:
    return [Path(p).stem for p in items]


def test_make_targets_follows_the_rule_by_hand() -> None:
    cats = make_targets(["b", "a", "b"])
    assert (cats.kind, cats.vocab, cats.values.tolist(), cats.task) == ("category", ["a", "b"], [1, 0, 1], "core/classification")
    tags = make_targets(["x y", "", "y"], label_delim=" ")
    assert tags.kind == "multi_category" and tags.vocab == ["x", "y"] and tags.c == 2
    assert tags.values.tolist() == [[1.0, 1.0], [0.0, 0.0], [0.0, 1.0]]
    lists = make_targets([["y"], [], ("x", "y")])
    assert lists.values.tolist() == tags.values[[2, 1, 0]].tolist()
    values = make_targets([0.5, 1.25, -2.0])
    assert values.kind == "regression" and values.task == "core/regression" and values.vocab is None and values.c == 1
    assert values.values.tolist() == [[0.5], [1.25], [-2.0]]
    assert make_targets([1.0, 2.0], y_block="category").vocab == ["1.0", "2.0"]
    with pytest.raises(LabelError, match="item 0 has a float label"):
        make_targets([0.5, "cat"])
    with pytest.raises(LabelError, match="item 1 has label nan; regression targets must be finite"):
        make_targets([0.5, float("nan")])
    with pytest.raises(LabelError, match="item 1 has label nan; single-label"):
        make_targets(["a", float("nan")])  # pandas' empty cell in a class column
    with pytest.raises(ConfigError, match="y_block='tags' is not one of"):
        make_targets(["a"], y_block="tags")


def test_from_csv_tags_valid_col_folder_and_suffix(fashion: Path) -> None:
    df = pd.read_csv(fashion / "labels.csv")
    dls = ImageDataLoaders.from_csv(
        fashion, fn_col="fname", label_col="tags", label_delim=" ", valid_col="is_valid", folder="images",
        suff=".png", size=32, bs=2, seed=0, augment=False,
    )  # fmt: skip
    assert dls.task == "core/multilabel" and dls.vocab == ["dots", "frame", "stripes"] and dls.c == 3
    assert _names(dls.valid_ds.items) == df.fname[df.is_valid].tolist()  # rows 0 and 5, not a random split
    assert dls.valid_ds.items[0] == fashion / "images" / "item_0.png"
    for item, target in zip(dls.train_ds.items, dls.train_ds.labels):
        tags = df.tags[df.fname == Path(item).stem].fillna("").item().split()
        assert [t for t, on in zip(dls.vocab, target.tolist()) if on] == sorted(tags)
        assert dls.label_text(target) == ";".join(sorted(tags))  # show_batch titles
    assert "Vocab (3 tags): ['dots', 'frame', 'stripes']" in dls.summary(show=False)
    x, y = dls.one_batch()
    assert x.shape == (2, 1, 32, 32) and y.dtype == torch.float32 and y.shape == (2, 3)


def test_from_df_by_position_float_column_is_regression(fashion: Path) -> None:
    df = pd.read_csv(fashion / "labels.csv")[["fname", "brightness", "is_valid"]]
    df["fname"] = "images/" + df.fname + ".png"
    dls = ImageDataLoaders.from_df(df, fashion, valid_pct=0.3, seed=1, size=32, bs=2)  # fn_col=0, label_col=1
    assert dls.task == "core/regression" and dls.vocab is None and dls.c == 1
    assert len(dls.valid_ds) == 3
    for item, target in zip(dls.valid_ds.items, dls.valid_ds.labels):
        assert target.tolist() == [pytest.approx(df.brightness[df.fname == f"images/{Path(item).name}"].item())]
    assert dls.label_text(torch.tensor([0.25])) == "0.25"
    assert "Task core/regression: 1 value(s) per item" in dls.summary(show=False)
    again = ImageDataLoaders.from_df(df, fashion, valid_pct=0.3, seed=1, size=32, bs=2)
    assert again.valid_ds.items == dls.valid_ds.items  # the seed fixes the split


def test_from_df_several_label_columns(fashion: Path) -> None:
    df = pd.DataFrame({"f": [f"images/item_{i}.png" for i in range(4)], "cat": [1, 0, 1, 0], "dog": [True, True, False, False]})
    dls = ImageDataLoaders.from_df(df.assign(v=[0, 1, 0, 1]), fashion, fn_col="f", label_col=["cat", "dog"], valid_col="v", size=32)
    assert dls.task == "core/multilabel" and dls.vocab == ["cat", "dog"]
    assert _names(dls.valid_ds.items) == ["item_1", "item_3"]
    rows = {Path(p).name: t.tolist() for p, t in zip([*dls.train_ds.items, *dls.valid_ds.items], [*dls.train_ds.labels, *dls.valid_ds.labels])}
    assert rows == {"item_0.png": [1.0, 1.0], "item_1.png": [0.0, 1.0], "item_2.png": [1.0, 0.0], "item_3.png": [0.0, 0.0]}
    df["w"], df["h"] = [0.5, 1.5, 2.5, 3.5], [1.0, 2.0, 3.0, 4.0]
    reg = ImageDataLoaders.from_df(df, fashion, fn_col="f", label_col=["w", "h"], valid_pct=0.5, seed=0, size=32)
    assert reg.task == "core/regression" and reg.c == 2 and reg.vocab == ["w", "h"]


def test_from_df_errors_name_the_culprit(fashion: Path) -> None:
    df = pd.read_csv(fashion / "labels.csv")
    with pytest.raises(ConfigError, match=r"label_col='label' is not a column of the table; its columns are \['fname'"):
        ImageDataLoaders.from_df(df, fashion, label_col="label")
    with pytest.raises(DataError, match="0 of 10 items are marked for validation"):
        ImageDataLoaders.from_df(df.assign(is_valid=False), fashion, folder="images", suff=".png", label_col="tags",
                                 label_delim=" ", valid_col="is_valid")
    with pytest.raises(BadImageError, match=r"10 of 10 image files cannot be read(.|\n)*10 of them do not exist: check the path, and folder=/suff="):
        ImageDataLoaders.from_df(df, fashion, folder="images", label_col="tags", label_delim=" ")  # suff=".png" forgotten
    with pytest.raises(DataError, match="no CSV file"):
        ImageDataLoaders.from_csv(fashion, csv_fname="missing.csv")


def test_from_lists_and_path_func_with_lists_are_multilabel(fashion: Path) -> None:
    files = sorted((fashion / "images").glob("*.png"))
    tags = [["a"] if i % 2 else ["a", "b"] for i in range(len(files))]
    dls = ImageDataLoaders.from_lists(fashion / "images", [f.name for f in files], tags, seed=0, size=32)
    assert dls.task == "core/multilabel" and dls.vocab == ["a", "b"]
    assert dls.train_ds.items[0].parent == fashion / "images"
    by_func = ImageDataLoaders.from_path_func(fashion, files, lambda p: ["a"] if int(p.stem[5:]) % 2 else ["a", "b"], seed=0, size=32)
    assert by_func.valid_ds.items == dls.valid_ds.items and torch.equal(by_func.valid_ds.labels, dls.valid_ds.labels)
    with pytest.raises(DataError, match="10 file names but 9 labels"):
        ImageDataLoaders.from_lists(fashion, files, tags[:-1])


def test_from_path_re_reads_the_whole_path(tmp_path: Path) -> None:
    for kind in ("Coat", "Sandal"):
        (tmp_path / kind).mkdir()
        for i in range(3):
            Image.fromarray(fashion_like(seed=i)).save(tmp_path / kind / f"{i}.png")
    files = sorted(tmp_path.rglob("*.png"))
    dls = ImageDataLoaders.from_path_re(tmp_path, files, r"/([A-Z][a-z]+)/\d+\.png$", seed=0, size=32)
    assert dls.vocab == ["Coat", "Sandal"]
    assert all(dls.vocab[int(t)] == Path(p).parent.name for p, t in zip(dls.train_ds.items, dls.train_ds.labels))
    with pytest.raises(LabelError, match="file path"):
        ImageDataLoaders.from_path_re(tmp_path, files, r"/(Coat)/", seed=0, size=32)


def test_from_tensors_multi_hot_and_float_targets() -> None:
    images = torch.from_numpy(np.stack([fashion_like(seed=i) for i in range(10)]))[:, None]
    multi_hot = torch.tensor([[1, 0, 1], [0, 1, 0]] * 5)
    dls = ImageDataLoaders.from_tensors(images, multi_hot, vocab=["x", "y", "z"], seed=0, bs=2)
    assert dls.task == "core/multilabel" and dls.c == 3 and dls.one_batch()[1].dtype == torch.float32
    values = torch.linspace(0, 1, 10)
    reg = ImageDataLoaders.from_tensors(images, values, seed=0, bs=2)
    assert reg.task == "core/regression" and reg.c == 1
    assert sorted(torch.cat([reg.train_ds.labels, reg.valid_ds.labels]).flatten().tolist()) == pytest.approx(values.tolist())
    ints_as_values = ImageDataLoaders.from_tensors(images, torch.arange(10), y_block="regression", seed=0, bs=2)
    assert ints_as_values.task == "core/regression" and ints_as_values.train_ds.labels.dtype == torch.float32
    assert ImageDataLoaders.from_tensors(images, torch.arange(10) % 2, seed=0).task == "core/classification"
    with pytest.raises(LabelError, match="multi-hot"):
        ImageDataLoaders.from_tensors(images, torch.rand(10, 3), y_block="multi_category")
