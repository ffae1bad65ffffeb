"""Broken image files are found in one pass when the loaders are built, all named in one error."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from graftzoo_vision.data import BadImageError, ImageDataLoaders, find_bad_images
from graftzoo_vision.data.synthetic import fashion_like


def _png_bytes(seed: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(fashion_like(seed=seed)).save(buf, "PNG")
    return buf.getvalue()


def _jpeg_bytes(seed: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(fashion_like(seed=seed)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture
def folder_with_broken_files(tmp_path: Path) -> tuple[Path, list[Path]]:
    for kind in ("Coat", "Sandal"):
        (tmp_path / kind).mkdir()
        for i in range(6):
            (tmp_path / kind / f"{i}.png").write_bytes(_png_bytes(i))
    broken = {
        tmp_path / "Coat" / "empty.png": b"",
        tmp_path / "Coat" / "notes.png": b"not an image at all",
        tmp_path / "Sandal" / "cut.png": _png_bytes(7)[:60],  # header fine, pixels missing
        tmp_path / "Sandal" / "cut.jpg": _jpeg_bytes(8)[:200],  # only decoding shows the truncation
    }
    for path, data in broken.items():
        path.write_bytes(data)
    return tmp_path, sorted(broken)


def test_every_broken_file_is_listed_in_one_error(folder_with_broken_files: tuple[Path, list[Path]]) -> None:
    root, broken = folder_with_broken_files
    with pytest.raises(BadImageError) as err:
        ImageDataLoaders.from_folder(root, valid_pct=0.25, seed=0, size=32)
    assert sorted(p for p, _ in err.value.files) == broken
    message = str(err.value)
    assert message.startswith("4 of 16 image files cannot be read:")
    assert all(str(p) in message for p in broken) and "skip_bad=True" in message


def test_skip_bad_leaves_them_out_with_a_warning(folder_with_broken_files: tuple[Path, list[Path]]) -> None:
    root, broken = folder_with_broken_files
    with pytest.warns(UserWarning, match="4 of 16 image files cannot be read") as record:
        dls = ImageDataLoaders.from_folder(root, valid_pct=0.25, seed=0, size=32, bs=4, skip_bad=True)
    assert all(str(p) in str(record[0].message) for p in broken)
    kept = [*dls.train_ds.items, *dls.valid_ds.items]
    assert len(kept) == 12 and not set(kept) & set(broken)
    assert len(dls.train_ds.labels) == len(dls.train_ds.items) and len(dls.valid_ds.labels) == len(dls.valid_ds.items)
    for item, label in zip(dls.train_ds.items, dls.train_ds.labels):
        assert dls.vocab[int(label)] == Path(item).parent.name  # labels stayed with their files
    assert dls.one_batch()[0].shape == (4, 1, 32, 32)


def test_a_png_missing_only_its_end_chunk_still_counts_as_readable(tmp_path: Path) -> None:
    path = tmp_path / "no_end.png"
    path.write_bytes(_png_bytes(1)[:-12])  # IEND dropped: PIL's verify complains, decoding works
    Image.open(path).load()
    assert find_bad_images([path]) == []


def _pairs(root: Path, n: int = 6) -> list[Path]:
    """`n` images with their masks (`masks/<stem>.png`), 20x20."""
    (root / "masks").mkdir()
    files = []
    for i in range(n):
        Image.fromarray(fashion_like(seed=i)).save(root / f"{i}.png")
        Image.new("L", (28, 28), i % 2).save(root / "masks" / f"{i}.png")
        files.append(root / f"{i}.png")
    return files


def test_segmentation_lists_broken_images_and_masks_and_skip_bad_drops_their_pairs(tmp_path: Path) -> None:
    from graftzoo_vision import SegmentationDataLoaders

    files = _pairs(tmp_path)
    (tmp_path / "1.png").write_bytes(_png_bytes(1)[:60])
    (tmp_path / "masks" / "4.png").write_bytes(b"not a mask")
    mask_of = lambda p: tmp_path / "masks" / p.name  # noqa: E731
    with pytest.raises(BadImageError) as err:
        SegmentationDataLoaders.from_label_func(tmp_path, files, mask_of, codes=["a", "b"], seed=0, size=16)
    assert sorted(p for p, _ in err.value.files) == [tmp_path / "1.png", tmp_path / "masks" / "4.png"]
    assert str(err.value).startswith("2 of 12 image files cannot be read:")
    with pytest.warns(UserWarning, match="2 of 12 image files cannot be read"):
        dls = SegmentationDataLoaders.from_label_func(tmp_path, files, mask_of, codes=["a", "b"], seed=0, size=16,
                                                      valid_pct=0.25, skip_bad=True)
    kept = [*dls.train_ds.items, *dls.valid_ds.items]
    assert sorted(Path(p).name for p in kept) == ["0.png", "2.png", "3.png", "5.png"]


def test_siamese_lists_broken_images(folder_with_broken_files: tuple[Path, list[Path]]) -> None:
    from graftzoo_vision import SiameseDataLoaders

    root, broken = folder_with_broken_files
    with pytest.raises(BadImageError) as err:
        SiameseDataLoaders.from_label_func(root, None, lambda p: p.parent.name, seed=0, size=32)
    assert sorted(p for p, _ in err.value.files) == broken
    with pytest.warns(UserWarning, match="4 of 16"):
        dls = SiameseDataLoaders.from_label_func(root, None, lambda p: p.parent.name, seed=0, size=32, bs=4,
                                                 valid_pct=0.5, skip_bad=True)
    assert len(dls.train_ds) + len(dls.valid_ds) == 12
