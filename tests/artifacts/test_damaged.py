"""Damaged, invalid or foreign artifacts give an ArtifactError that says what is wrong, and write nothing."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import pytest
import torch
from safetensors.torch import save_file

from graftzoo import registry
from graftzoo.artifacts import FingerprintWarning, load_head
from graftzoo.errors import ArtifactError


def _copy(saved: Path, tmp_path: Path, name: str) -> Path:
    return Path(shutil.copytree(saved, tmp_path / name))


def _edit_config(folder: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    config = json.loads((folder / "graftzoo.json").read_text())
    edit(config)
    (folder / "graftzoo.json").write_text(json.dumps(config))
    return folder


def _rewrite_tensors(folder: Path, tensors: dict[str, torch.Tensor]) -> None:
    """Replace head.safetensors AND its recorded size/hash, so only the content is wrong."""
    path = folder / "head.safetensors"
    save_file(tensors, str(path))
    data = path.read_bytes()
    _edit_config(folder, lambda c: c.update(head_file={"name": "head.safetensors", "bytes": len(data),
                                                         "sha256": hashlib.sha256(data).hexdigest()}))


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_truncated_head_file_names_the_file(saved: Path, tmp_path: Path) -> None:
    folder = _copy(saved, tmp_path, "truncated")
    path = folder / "head.safetensors"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ArtifactError, match=r"head\.safetensors has 1000 bytes .* truncated"):
        load_head(folder)


def test_corrupted_head_file_is_caught_by_its_hash(saved: Path, tmp_path: Path) -> None:
    folder = _copy(saved, tmp_path, "corrupted")
    path = folder / "head.safetensors"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match=r"head\.safetensors is corrupted"):
        load_head(folder)


def test_broken_header_is_caught_even_with_a_matching_hash(saved: Path, tmp_path: Path) -> None:
    folder = _copy(saved, tmp_path, "header")
    path = folder / "head.safetensors"
    data = path.read_bytes()
    header_len = int.from_bytes(data[:8], "little")
    broken = data[:8] + b"{" * header_len + data[8 + header_len:]
    path.write_bytes(broken)
    _edit_config(folder, lambda c: c["head_file"].update(sha256=hashlib.sha256(broken).hexdigest()))
    with pytest.raises(ArtifactError, match=r"head\.safetensors is not a valid safetensors file: its header is not JSON"):
        load_head(folder)
    path.write_bytes(b"\xff" * 8 + broken[8:])
    _edit_config(folder, lambda c: c["head_file"].update(sha256=hashlib.sha256(path.read_bytes()).hexdigest()))
    with pytest.raises(ArtifactError, match="header length"):
        load_head(folder)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c.pop("arch"), r"lacks \['arch'\]"),
        (lambda c: c.pop("head_file"), r"lacks \['head_file'\]"),
        (lambda c: c.update(n_out="3"), r"'n_out' must be an integer"),
        (lambda c: c.update(head_kwargs=[1]), r"'head_kwargs' must be a JSON object"),
        (lambda c: c.update(classes="cat"), r"'classes' must be null or a list of strings"),
        (lambda c: c["preprocessor"]["state"].update(stats={"mean": [0.5], "std": [0.0]}), r"preprocessor .* stats must be"),
        (lambda c: c.update(format_version=3), r"format_version 3, newer .*pip install -U graftzoo"),
        (lambda c: c.update(format_version=0), r"'format_version' must be 2"),
        (lambda c: c.update(format_version="2"), r"'format_version' must be 2, the format this graftzoo writes \(got '2'\)"),
        (lambda c: c.update(n_out=10**9), r"'n_out' must be an integer from 1 to 999999"),
        (lambda c: c["preprocessor"]["state"].update(input_size=[3, 10**7, 224]), r"input_size must be"),
        (lambda c: c.update(classes=["a", "b"]), r"'classes' has 2 names for n_out=3"),
        (lambda c: c.update(body_fingerprint=None), r"'body_fingerprint' is null"),
        (lambda c: c.update(arch="resnet34"), r"'arch' must be a full registry name"),
    ],
    ids=["no-arch", "no-head-file", "n_out-str", "kwargs-list", "classes-str", "zero-std", "format-3", "format-0",
         "format-str", "n_out-huge", "size-huge", "classes-count", "no-fingerprint", "bare-arch"],
)
def test_invalid_config(saved: Path, tmp_path: Path, edit: Callable[[dict[str, Any]], None], message: str) -> None:
    folder = _edit_config(_copy(saved, tmp_path, "invalid"), edit)
    with pytest.raises(ArtifactError, match=message):
        load_head(folder)


def test_config_that_is_not_json_or_missing(saved: Path, tmp_path: Path) -> None:
    folder = _copy(saved, tmp_path, "notjson")
    (folder / "graftzoo.json").write_text("{'format_version': 1")
    with pytest.raises(ArtifactError, match="graftzoo.json is not valid JSON"):
        load_head(folder)
    (folder / "graftzoo.json").unlink()
    with pytest.raises(ArtifactError, match="holds no graftzoo.json: it is not a saved head"):
        load_head(folder)
    with pytest.raises(ArtifactError, match="neither a folder nor a hub reference"):
        load_head(str(tmp_path / "no" / "such" / "folder"))


def test_absurd_head_size_fails_before_allocating(saved: Path, tmp_path: Path) -> None:
    # 10**9 hidden units x 1024 inputs would be 4 TB: the head's kwargs schema refuses it outright
    folder = _edit_config(_copy(saved, tmp_path, "absurd"), lambda c: c["head_kwargs"].update(lin_ftrs=[10**9]))
    start = time.monotonic()
    with pytest.raises(ArtifactError, match=r"lin_ftrs.0: 1000000000 is greater than the maximum"):
        load_head(folder)
    # within the schema but not what was stored: sized on the meta device, refused before allocating
    folder = _edit_config(folder, lambda c: c["head_kwargs"].update(lin_ftrs=[16384, 16384]))
    with pytest.raises(ArtifactError, match=r"do not fit .* shape mismatches"):
        load_head(folder)
    assert time.monotonic() - start < 30
    folder = _edit_config(folder, lambda c: c.update(n_out=999_999, classes=None, head_kwargs={}))
    with pytest.raises(ArtifactError, match=r"shape mismatches .*head\.layers\.lin_1\.weight: stored \[3, 512\], model \[999999, 512\]"):
        load_head(folder)


def test_tensor_shapes_and_names_must_fit_the_model(saved: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file

    tensors = load_file(str(saved / "head.safetensors"))
    folder = _copy(saved, tmp_path, "shapes")
    _rewrite_tensors(folder, {**tensors, "head.layers.lin_1.weight": torch.zeros(3, 7)})
    with pytest.raises(ArtifactError, match=r"head\.layers\.lin_1\.weight: stored \[3, 7\], model \[3, 512\]"):
        load_head(folder)
    _rewrite_tensors(folder, {k: v for k, v in tensors.items() if k != "head.layers.lin_1.weight"})
    with pytest.raises(ArtifactError, match=r"missing tensors \['head\.layers\.lin_1\.weight'\]"):
        load_head(folder)
    _rewrite_tensors(folder, {**tensors, "head.extra": torch.zeros(2)})
    with pytest.raises(ArtifactError, match=r"unknown tensors \['head\.extra'\]"):
        load_head(folder)
    _rewrite_tensors(folder, {**tensors, "optimizer.state": torch.zeros(2)})
    with pytest.raises(ArtifactError, match=r"unexpected tensors \['optimizer\.state'\]"):
        load_head(folder)


def test_missing_plugin_names_the_pip_install_line(saved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFTZOO_DISABLE_PLUGINS", "text,tabular")  # as if they were not installed
    registry.reset()
    try:
        folder = _edit_config(_copy(saved, tmp_path, "plugin"), lambda c: c.update(arch="text/awd_lstm"))
        with pytest.raises(ArtifactError, match=r"needs arch 'text/awd_lstm'.*pip install graftzoo-text"):
            load_head(folder)
        folder = _edit_config(folder, lambda c: c.update(arch="vision/xresnet18", head="tabular/mlp"))
        with pytest.raises(ArtifactError, match=r"needs head 'tabular/mlp'.*pip install graftzoo-tabular"):
            load_head(folder)
    finally:
        monkeypatch.delenv("GRAFTZOO_DISABLE_PLUGINS")
        registry.reset()


def test_fingerprint_mismatch_strict_and_not(
    kit: ModuleType, saved: Path, frozen: Any, other_weights_ref: str, tmp_path: Path
) -> None:
    with pytest.raises(ArtifactError, match=r"not the ones the head .* was trained on .* strict=False"):
        load_head(saved, body_weights=other_weights_ref)
    with pytest.warns(FingerprintWarning, match="not the ones the head"):
        loaded = load_head(saved, body_weights=other_weights_ref, strict=False)
    assert loaded.config["weights"] == other_weights_ref
    assert not torch.equal(kit.logits(loaded), kit.logits(frozen))


def test_weights_changed_in_place_are_noticed(kit: ModuleType, tmp_path: Path) -> None:
    ref = kit.write_weights(tmp_path / "w.safetensors", seed=5)
    model = kit.make_model(ref)
    folder = model.save_head(tmp_path / "head")
    load_head(folder)  # fingerprint remembered for this file
    time.sleep(0.01)
    kit.write_weights(tmp_path / "w.safetensors", seed=6)  # same size, new content and mtime
    with pytest.raises(ArtifactError, match="not the ones the head"):
        load_head(folder)


def test_missing_body_weights_file_is_explained(saved: Path, tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match=r"cannot read the body weights .*does not exist"):
        load_head(saved, body_weights=(tmp_path / "gone.safetensors").as_uri())


def test_failed_loads_write_nothing(saved: Path, tmp_path: Path, home: Path) -> None:
    folder = _copy(saved, tmp_path, "readonly-check")
    (folder / "head.safetensors").write_bytes(b"\x00" * 64)
    before = _tree(tmp_path)
    with pytest.raises(ArtifactError):
        load_head(folder)
    assert _tree(tmp_path) == before
    assert not home.exists()
