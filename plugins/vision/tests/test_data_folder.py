"""from_folder layouts, summary's collate explanation, show_batch's PNG."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from graftzoo_vision.data import (
    CollateError,
    DataError,
    ImageDataLoaders,
    summary,
    write_image_folder,
)

CLASSES = ["dog", "cat", "bird"]


def test_from_folder_train_and_valid(tmp_path: Path) -> None:
    root = write_image_folder(tmp_path, CLASSES, 3)
    dls = ImageDataLoaders.from_folder(root, size=16, bs=4, seed=0)
    assert dls.vocab == ["bird", "cat", "dog"] and dls.c == 3
    assert len(dls.train_ds) == len(dls.valid_ds) == 9
    assert all("/valid/" in str(p) for p in dls.valid_ds.items)
    assert [dls.vocab[int(y)] for y in dls.valid_ds.labels] == [Path(p).parent.name for p in dls.valid_ds.items]
    assert dls.one_batch()[0].shape == (4, 3, 16, 16)
    assert isinstance(dls.train, torch.utils.data.DataLoader) and dls.bs == 4
    assert dls.device.type in ("cpu", "cuda") and dls.n_in == 3


def test_from_folder_named_folders(tmp_path: Path) -> None:
    root = write_image_folder(tmp_path, CLASSES, 2, splits=("training", "testing"))
    dls = ImageDataLoaders.from_folder(root, train="training", valid="testing", size=8, seed=0)
    assert len(dls.valid_ds) == 6
    with pytest.raises(DataError, match="valid_pct"):
        ImageDataLoaders.from_folder(root, size=8)


def test_from_folder_valid_pct_splits_everything(tmp_path: Path) -> None:
    root = write_image_folder(tmp_path, CLASSES, 5, splits=())
    dls = ImageDataLoaders.from_folder(root, valid_pct=0.2, seed=3, size=8, bs=4)
    assert len(dls.train_ds) == 12 and len(dls.valid_ds) == 3
    again = ImageDataLoaders.from_folder(root, valid_pct=0.2, seed=3, size=8)
    assert again.valid_ds.items == dls.valid_ds.items


def test_show_batch_writes_png(tmp_path: Path) -> None:
    root = write_image_folder(tmp_path / "data", CLASSES, 2)
    dls = ImageDataLoaders.from_folder(root, size=16, bs=4, seed=0).normalize([0.5] * 3, [0.25] * 3)
    out = dls.show_batch(tmp_path / "grid.png", max_n=4)
    assert out == tmp_path / "grid.png"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    default = dls.show_batch(train=False)
    assert default.exists() and default.suffix == ".png"


def test_summary_explains_items_of_different_sizes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_image_folder(tmp_path, ["a", "b"], 3, sizes=[(40, 30), (30, 44), (36, 36)])
    text = summary(root, size=None, seed=0)
    assert "applying open" in text and "PIL image mode=RGB" in text and "label" in text
    assert "Error! It's not possible to collate your items in a batch" in text
    assert "different sizes" in text and "resize" in text and "size=" in text
    assert text in capsys.readouterr().out
    dls = ImageDataLoaders.from_folder(root, size=None, seed=0, bs=4)
    with pytest.raises(CollateError, match="different sizes"):
        next(iter(dls.train))


def test_summary_of_a_working_pipeline(tmp_path: Path) -> None:
    root = write_image_folder(tmp_path, ["a", "b"], 3, sizes=[(40, 30), (30, 44)])
    text = ImageDataLoaders.from_folder(root, size=16, seed=0).summary(show=False)
    assert "presize" in text and "(3, 20, 20)" in text
    assert "batch_transform(train=True)" in text and "(4, 3, 16, 16)" in text
    assert "Error" not in text
