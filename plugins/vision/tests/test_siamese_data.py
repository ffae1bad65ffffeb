"""SiameseDataLoaders: fresh train pairs each epoch, fixed valid pairs, half same / half different."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from graftzoo_vision.data import DataError, write_named_images
from graftzoo_vision.data.siamese import SiameseDataLoaders, draw_pairs
from graftzoo_vision.datasets import digits


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread: None) -> None:
    """Every test here on one torch thread, seed 0 (graftzoo.testing's fixture)."""


@pytest.fixture(scope="module")
def dls() -> SiameseDataLoaders:
    data = digits()
    return SiameseDataLoaders.from_tensors(data.images[:200], data.labels[:200], classes=data.classes, seed=0, bs=16)


def check_pairs(pairs: list[tuple[int, int, int]], labels: torch.Tensor) -> None:
    firsts = sorted(i for i, _, _ in pairs)
    assert firsts == list(range(len(labels)))  # every item once as the first image
    assert sum(s for _, _, s in pairs) == len(labels) // 2  # exactly half "same"
    for i, j, same in pairs:
        assert (labels[i] == labels[j]) == bool(same)
        assert i != j or (labels == labels[i]).sum() == 1


def test_train_pairs_change_each_epoch_valid_pairs_stay(dls: SiameseDataLoaders) -> None:
    labels_t, labels_v = dls.train_ds.labels, dls.valid_ds.labels
    epoch1, epoch2 = list(dls.train.sampler), list(dls.train.sampler)
    check_pairs(epoch1, labels_t)
    check_pairs(epoch2, labels_t)
    assert epoch1 != epoch2
    valid1, valid2 = list(dls.valid.sampler), list(dls.valid.sampler)
    assert valid1 == valid2 == dls.valid_pairs
    check_pairs(valid1, labels_v)
    assert [i for i, _, _ in valid1] == list(range(len(labels_v)))  # in order, not shuffled


def test_batches_are_two_images_and_same(dls: SiameseDataLoaders) -> None:
    assert dls.vocab == ["different", "same"] and dls.c == 2 and dls.classes == [str(i) for i in range(10)]
    first, second, same = dls.one_batch(train=False)
    assert first.shape == second.shape == (16, 1, 8, 8) and first.dtype == torch.float32
    pairs = dls.valid_pairs[:16]
    assert same.tolist() == [s for _, _, s in pairs]
    expected = dls.valid_ds.items[torch.tensor([j for _, j, _ in pairs])].float() / 255
    assert torch.allclose(second, expected)
    valid_targets = torch.cat([b[-1] for b in dls.valid])
    assert torch.equal(valid_targets, torch.cat([b[-1] for b in dls.valid]))
    assert valid_targets.float().mean().item() == pytest.approx(0.5, abs=0.02)


def test_same_seed_same_pairs() -> None:
    data = digits()
    make = lambda: SiameseDataLoaders.from_tensors(data.images[:60], data.labels[:60], seed=3, bs=8)  # noqa: E731
    a, b = make(), make()
    assert a.valid_pairs == b.valid_pairs
    assert list(a.train.sampler) == list(b.train.sampler)


def test_draw_pairs_edge_cases() -> None:
    gen = torch.Generator().manual_seed(0)
    pairs = draw_pairs(torch.tensor([0, 0, 0, 1]), gen)  # class 1 has one member: its "same" partner is itself
    check_pairs(pairs, torch.tensor([0, 0, 0, 1]))
    with pytest.raises(DataError, match="two classes"):
        draw_pairs(torch.tensor([2, 2, 2]), gen)


def test_from_name_re_with_files_and_show_batch(tmp_path: Path) -> None:
    files = write_named_images(tmp_path / "pets", ["beagle", "pug", "Siamese"], 6, sizes=((40, 30), (30, 44)))
    dls = SiameseDataLoaders.from_name_re(tmp_path / "pets", files, r"^(.+)_\d+\.jpg$", valid_pct=0.25, seed=0,
                                          size=32, bs=4)
    assert dls.classes == ["Siamese", "beagle", "pug"] and len(dls.train_ds) == 14 and len(dls.valid_ds) == 4
    first, second, same = dls.one_batch()
    assert first.shape == second.shape == (4, 3, 32, 32) and same.shape == (4,)
    x1, x2 = dls.encode_item((files[0], Image.open(files[1])))
    assert x1.shape == x2.shape == (1, 3, 32, 32) and x1.dtype == torch.float32
    path = dls.show_batch(tmp_path / "pairs.png", max_n=4)
    assert path.is_file() and Image.open(path).size[0] > 100
    by_func = SiameseDataLoaders.from_label_func(tmp_path / "pets", None, lambda p: p.name.split("_")[0], seed=0, size=32)
    assert by_func.classes == dls.classes
