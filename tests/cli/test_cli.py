"""The command line: list, info and plugins, in text and JSON."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from graftzoo.registry.cli import main


def test_list_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "xresnet*"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[0].split() == ["name", "input", "weights", "plugin"]
    assert [line.split()[0] for line in text[1:]] == [f"vision/xresnet{n}" for n in (101, 152, 18, 34, 50)]
    assert main(["list", "xresnet*", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {d["name"] for d in data} == {f"vision/xresnet{n}" for n in (18, 34, 50, 101, 152)}
    assert all(d["cut"] == -4 for d in data)


def test_list_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--kind", "tasks", "--json"]) == 0
    names = [d["name"] for d in json.loads(capsys.readouterr().out)]
    assert "core/classification" in names
    assert main(["list", "--kind", "weights"]) == 0
    assert "core/file" in capsys.readouterr().out


def test_info_arch(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "xresnet34", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["name"] == "vision/xresnet34" and info["cut"] == -4 and info["num_features"] == 512
    assert info["stats"]["mean"] == [0.485, 0.456, 0.406]
    assert "graftzoo-vision" in info["plugin"]


def test_info_unknown_name_exits_2_with_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "xresnet5"]) == 2
    err = capsys.readouterr().err
    assert "vision/xresnet50" in err and "graftzoo list" in err


def test_plugins_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins", "--json"]) == 0
    records = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert records["core"]["status"] == "ok" and records["vision"]["distribution"] == "graftzoo-vision"


def test_python_dash_m_and_console_script_agree() -> None:
    via_module = subprocess.run([sys.executable, "-m", "graftzoo", "list", "--kind", "heads"], capture_output=True, text=True, check=True)
    assert "vision/classify" in via_module.stdout
