"""`graftzoo push / pull / predict / info REF` (through registry/cli_artifacts.py's entry point)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
import pytest
from PIL import Image

from graftzoo.registry.cli_artifacts import is_artifact_ref, main

HEAVY = ("torch", "torchvision", "timm", "graftzoo_vision")


def _image(path: Path, color: tuple[int, int, int]) -> Path:
    Image.new("RGB", (48, 40), color).save(path)
    return path


def test_push_pull_info_predict(saved: Path, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["push", str(saved), "alice/pets", "--message", "from the cli"]) == 0
    out = capsys.readouterr().out
    ref = out.split(" as ", 1)[1].split()[0]
    assert ref.startswith("local://alice/pets@") and "graftzoo.load_head(" in out

    assert main(["pull", "alice/pets", "--to", str(tmp_path / "copy")]) == 0
    assert Path(capsys.readouterr().out.strip()) == tmp_path / "copy"
    assert (tmp_path / "copy" / "graftzoo.json").is_file()

    assert main(["info", ref, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["kind"] == "saved head" and info["arch"] == "vision/xresnet18" and info["head"] == "vision/classify"
    assert info["classes"] == ["cat", "dog", "fish"] and info["metrics"] == {"accuracy": 0.75}
    assert info["body"].startswith("frozen except its normalization layers") and info["fine_tuning"].startswith("none: ")
    assert main(["info", str(saved)]) == 0
    text = capsys.readouterr().out
    assert "vision/xresnet18" in text and "accuracy=0.75" in text

    files = [_image(tmp_path / "red.png", (255, 0, 0)), _image(tmp_path / "blue.png", (0, 0, 255))]
    assert main(["predict", "alice/pets", *map(str, files), "--top-k", "2", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["file"] for r in rows] == [str(f) for f in files]
    assert all(len(r["top_k"]) == 2 and r["top_k"][0]["prob"] >= r["top_k"][1]["prob"] for r in rows)
    assert {g["label"] for r in rows for g in r["top_k"]} <= {"cat", "dog", "fish"}
    from graftzoo.artifacts import load_head

    _, probs = load_head("alice/pets").predict(files)
    assert rows[0]["top_k"][0]["prob"] == pytest.approx(float(probs[0].max()))
    assert main(["predict", str(saved), str(files[0])]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"{files[0]}: ") and line.split(": ")[1].split(" (")[0] in {"cat", "dog", "fish"}


def test_errors_exit_2_with_a_message(tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pull", "alice/nothing"]) == 2
    assert "No repo 'alice/nothing'" in capsys.readouterr().err
    assert main(["push", str(tmp_path), "alice/pets"]) == 2
    assert "holds no graftzoo.json" in capsys.readouterr().err
    assert main(["info", str(tmp_path / "missing")]) == 2
    assert "neither a folder nor a hub reference" in capsys.readouterr().err


def test_predict_rejects_bad_top_k_and_bad_files(saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", str(saved), "a.png", "--top-k", "0"]) == 2
    assert "--top-k must be at least 1" in capsys.readouterr().err
    (tmp_path / "bad.png").write_bytes(b"not a png")
    assert main(["predict", str(saved), str(tmp_path / "bad.png")]) == 2
    assert "cannot open" in capsys.readouterr().err


def test_is_artifact_ref(saved: Path) -> None:
    assert is_artifact_ref("hf://alice/pets") and is_artifact_ref("local://alice/pets")
    assert is_artifact_ref("alice/pets@main") and is_artifact_ref(str(saved))
    assert not is_artifact_ref("vision/xresnet18") and not is_artifact_ref("resnet34")


def _modules_after(code: str, env: dict[str, str]) -> set[str]:
    script = f"import sys, json, contextlib, io\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_push_pull_and_info_do_not_import_torch(saved: Path, tmp_path: Path) -> None:
    env = {**os.environ, "GRAFTZOO_HOME": str(tmp_path / "home")}
    run = "from graftzoo.registry.cli_artifacts import main\nwith contextlib.redirect_stdout(io.StringIO()): assert main({}) == 0"
    for argv in (["push", str(saved), "alice/pets"], ["pull", "alice/pets"], ["info", "alice/pets@main"], ["info", str(saved)]):
        modules = _modules_after(run.format(repr(argv)), env)
        assert not modules & set(HEAVY), (argv, modules & set(HEAVY))
