"""Labels from file names (regex, function) and the vocab."""

from __future__ import annotations

from pathlib import Path

import pytest

from graftzoo_vision.data import ImageDataLoaders, LabelError, RegexLabeller, write_named_images

PAT = r"(.+)_\d+.jpg$"
CLASSES = ["shiba_inu", "Birman", "beagle"]


@pytest.fixture
def pets(tmp_path: Path) -> list[Path]:
    return write_named_images(tmp_path / "images", CLASSES, 4)


def test_regex_labeller_reads_the_name() -> None:
    assert RegexLabeller(PAT)(Path("/data/images/great_pyrenees_182.jpg")) == "great_pyrenees"
    with pytest.raises(LabelError, match="has no group, so every file name would be its own class"):
        RegexLabeller(r"^[a-z]+")  # fastai needs a group too; without one every file was its own class


def test_from_name_re_vocab_sorted_and_c(pets: list[Path]) -> None:
    dls = ImageDataLoaders.from_name_re(pets[0].parent, pets, PAT, seed=42, size=16, bs=4)
    assert dls.vocab == sorted(CLASSES) == ["Birman", "beagle", "shiba_inu"]
    assert dls.c == 3
    assert len(dls.train_ds) + len(dls.valid_ds) == 12
    assert len(dls.valid_ds) == round(12 * 0.2)
    _, label = dls.valid_ds[0]
    name = Path(dls.valid_ds.items[0]).name
    assert dls.vocab[int(label)] == name.rsplit("_", 1)[0]


def test_fnames_none_finds_every_image(pets: list[Path]) -> None:
    dls = ImageDataLoaders.from_name_re(pets[0].parent, None, PAT, seed=0, size=16)
    assert len(dls.train_ds) + len(dls.valid_ds) == len(pets)


def test_non_matching_file_names_the_file_and_pattern(pets: list[Path]) -> None:
    odd = pets[0].parent / "README.png"
    pets[0].rename(odd)
    with pytest.raises(LabelError) as err:
        ImageDataLoaders.from_name_re(pets[0].parent, None, PAT, seed=0, size=16)
    message = str(err.value)
    assert "README.png" in message and PAT in message


def test_from_name_func_hands_the_name_as_fastai(pets: list[Path]) -> None:
    seen: list[object] = []

    def is_cat(x: str) -> bool:  # fastai's chapter-1 label function: x is the file name
        seen.append(x)
        return x[0].isupper()

    dls = ImageDataLoaders.from_name_func(pets[0].parent, pets, is_cat, seed=1, size=16)
    assert dls.vocab == ["False", "True"]
    assert sorted(seen) == sorted(p.name for p in pets)


def test_vocab_given_must_cover_labels(pets: list[Path]) -> None:
    with pytest.raises(LabelError, match="not in the vocab"):
        ImageDataLoaders.from_name_re(pets[0].parent, pets, PAT, seed=0, vocab=["Birman", "beagle"])
    dls = ImageDataLoaders.from_name_re(pets[0].parent, pets, PAT, seed=0, vocab=["shiba_inu", "beagle", "Birman", "x"])
    assert dls.c == 4 and dls.vocab[0] == "shiba_inu"


def test_a_label_func_mixing_lists_and_single_labels_is_an_error(tmp_path: Path) -> None:
    from graftzoo_vision.data.labels import label_items
    from graftzoo_vision.data.targets import make_targets

    with pytest.raises(LabelError, match=r"label_func returned \{'a': 1\} \(dict\)"):
        label_items([tmp_path / "x.png"], lambda path: {"a": 1})
    assert label_items([tmp_path / "x.png"], lambda path: 3) == [3]
    mixed = label_items([tmp_path / "x.png", tmp_path / "y.png"], lambda p: ["a", "b"] if p.stem == "x" else "a")
    with pytest.raises(LabelError, match=r"item 0 has a list of labels \(\['a', 'b'\]\) but item 1 has one \('a'\)"):
        make_targets(mixed)  # an accidental mix is an error, never silent string labels
    assert make_targets(mixed, y_block="multi_category").values.tolist() == [[1.0, 1.0], [1.0, 0.0]]
