"""`graftzoo predict` over folders, with unreadable files reported and the rest still predicted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from graftzoo.registry.cli_artifacts import main


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.new("RGB", (40, 32), (250, 10, 10)).save(folder / "b_red.png")
    Image.new("RGB", (40, 32), (10, 10, 250)).save(folder / "a_blue.jpg")
    (folder / "notes.txt").write_text("not an image, not picked from a folder")
    return folder


def test_a_folder_predicts_every_image_file_in_it(saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _folder(tmp_path)
    assert main(["predict", str(saved), str(folder), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [Path(r["file"]).name for r in rows] == ["a_blue.jpg", "b_red.png"]
    from graftzoo.artifacts import load_head

    _, probs = load_head(str(saved)).predict([str(folder / "a_blue.jpg"), str(folder / "b_red.png")])
    assert [r["top_k"][0]["prob"] for r in rows] == pytest.approx(probs.max(dim=1).values.tolist())


def test_unreadable_files_are_reported_and_the_rest_predicted(saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _folder(tmp_path)
    (folder / "c_broken.png").write_bytes(b"\x89PNG truncated")
    assert main(["predict", str(saved), str(folder), str(tmp_path / "missing.png")]) == 1  # some unreadable
    captured = capsys.readouterr()
    predicted = [line.split(": ")[0] for line in captured.out.splitlines()]
    assert [Path(p).name for p in predicted] == ["a_blue.jpg", "b_red.png"]
    assert "c_broken.png" in captured.err and "missing.png" in captured.err
    assert "2 of 4 files could not be read" in captured.err

    assert main(["predict", str(saved), str(folder / "c_broken.png"), "--json"]) == 2  # none readable
    rows = json.loads(capsys.readouterr().out)
    assert rows == [{"file": str(folder / "c_broken.png"), "error": rows[0]["error"]}] and "cannot open" in rows[0]["error"]


def test_a_folder_without_images_is_an_error(saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["predict", str(saved), str(tmp_path / "empty")]) == 2
    assert "holds no image files" in capsys.readouterr().err
