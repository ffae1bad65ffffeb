"""Shared by the vision tests: plots go to each test's tmp_path, never the working directory."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _plots_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The default plot folder (`GRAFTZOO_PLOTS`) inside the test's tmp_path."""
    folder = tmp_path / "plots"
    monkeypatch.setenv("GRAFTZOO_PLOTS", str(folder))
    return folder
