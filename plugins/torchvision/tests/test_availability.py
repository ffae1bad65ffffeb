"""The file-only check behind `graftzoo list`'s weights column: the checkpoint table matches torchvision,
and the cache folder follows torch.hub's own rule."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest
import torch.hub
from torchvision import models

from graftzoo_torchvision.availability import checkpoint_files, checkpoints_dir, is_available


def test_the_table_names_every_weights_member_as_torchvision_saves_it() -> None:
    expected = {
        f"{enum.__name__}.{member.name}": Path(urlparse(member.url).path).name
        for enum in (models.get_model_weights(n) for n in models.list_models(module=models))
        for member in enum
    }
    assert checkpoint_files() == expected  # rerun tools/make_manifest.py after a torchvision upgrade


def test_the_cache_folder_is_torch_hubs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TORCH_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert checkpoints_dir() == Path(torch.hub._get_torch_home()) / "hub" / "checkpoints"
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    assert checkpoints_dir() == Path(torch.hub._get_torch_home()) / "hub" / "checkpoints" == tmp_path / "th" / "hub" / "checkpoints"


def test_is_available_looks_for_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    ref = "torchvision:ResNet50_Weights.IMAGENET1K_V2"
    assert is_available(ref) is False
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    (tmp_path / "hub" / "checkpoints" / checkpoint_files()["ResNet50_Weights.IMAGENET1K_V2"]).write_bytes(b"")
    assert is_available(ref) is True
    assert is_available("torchvision:ResNet50_Weights.IMAGENET1K_V1") is False  # another file
    assert is_available("torchvision:NoSuch_Weights.X") is None  # the table cannot tell
