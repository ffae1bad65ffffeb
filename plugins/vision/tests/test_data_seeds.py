"""Same seed: same split, same order, same augmentation; another seed: different ones."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from graftzoo_vision.data import ImageDataLoaders, random_split, write_named_images

PAT = r"(.+)_\d+.jpg$"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_named_images(tmp_path_factory.mktemp("pets"), ["a", "b", "c"], 6, sizes=[(40, 30), (30, 44)])


def _dls(files: list[Path], seed: int | None) -> ImageDataLoaders:
    return ImageDataLoaders.from_name_re(files[0].parent, files, PAT, seed=seed, size=16, bs=4)


def test_random_split_is_seeded() -> None:
    assert random_split(50, 0.2, 7) == random_split(50, 0.2, 7)
    train, valid = random_split(50, 0.2, 7)
    assert len(valid) == 10 and sorted(train + valid) == list(range(50))
    assert random_split(50, 0.2, 8) != random_split(50, 0.2, 7)


def test_same_seed_same_split_order_and_augmentation(files: list[Path]) -> None:
    one, two = _dls(files, 42), _dls(files, 42)
    assert one.train_ds.items == two.train_ds.items and one.valid_ds.items == two.valid_ds.items
    for (xa, ya), (xb, yb) in zip(list(one.train), list(two.train), strict=True):
        assert torch.equal(ya, yb) and torch.equal(xa, xb)  # order and item crops
    a, b = one.one_batch(), two.one_batch()
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_other_seed_differs(files: list[Path]) -> None:
    one, two = _dls(files, 1), _dls(files, 2)
    assert one.valid_ds.items != two.valid_ds.items
    assert not torch.equal(one.one_batch()[0], two.one_batch()[0])


def test_no_seed_follows_torch_manual_seed(files: list[Path]) -> None:
    torch.manual_seed(0)
    one = _dls(files, None)
    torch.manual_seed(0)
    two = _dls(files, None)
    assert one.seed == two.seed and one.valid_ds.items == two.valid_ds.items


def test_summary_leaves_the_random_streams_alone(files: list[Path]) -> None:
    one, two = _dls(files, 5), _dls(files, 5)
    one.summary(show=False)
    assert torch.equal(one.one_batch()[0], two.one_batch()[0])
