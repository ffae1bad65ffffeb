"""A pulled head is read bounded and exact: sizes capped, JSON strict, dtypes checked, regular files only.

Every attack takes a real saved head, forges one file or field, and loads it the way a victim would
(`load_head`). Each must end in an ArtifactError that names the culprit, before anything large is
read or allocated, and without hanging.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import save_file

import graftzoo
from graftzoo.artifacts import load_head
from graftzoo.artifacts.header import MAX_HEADER_BYTES
from graftzoo.artifacts.schema import MAX_CONFIG_BYTES
from graftzoo.errors import ArtifactError

ARCH = "timm/test_efficientnet"  # 0.36 M parameters: a whole body saves in 1.5 MB
HANG_SECONDS = 20
MAX_IN_CHANNELS, MAX_SIDE = 64, 8192  # the documented limits (docs/artifacts.md)


@pytest.fixture(scope="module")
def saved_head(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    model = graftzoo.graft(ARCH, "classify", n_out=3)
    return model.save_head(tmp_path_factory.mktemp("heads") / "pets", vocab=["cat", "dog", "fish"])


def copy_head(saved: Path, dest: Path) -> Path:
    dest.mkdir(parents=True)
    for item in saved.iterdir():
        (dest / item.name).write_bytes(item.read_bytes())
    return dest


INPUT_FIELDS = ("n_in", "stats", "input_size")


def set_field(config: dict[str, Any], key: str, value: Any) -> None:
    """Set `key` where this config keeps it: the image fields sit at the top in format 1, in the
    preprocessor's state (and `inputs` for `n_in`) in format 2."""
    if key in INPUT_FIELDS and "preprocessor" in config:
        config["preprocessor"]["state"][key] = value
        if key == "n_in":
            config["inputs"]["n_in"] = value
    else:
        config[key] = value


def forge(saved: Path, dest: Path, **fields: Any) -> Path:
    """A copy of the saved head at `dest` whose graftzoo.json has `fields` replaced."""
    copy_head(saved, dest)
    config = json.loads((saved / "graftzoo.json").read_text())
    for key, value in fields.items():
        set_field(config, key, value)
    (dest / "graftzoo.json").write_text(json.dumps(config))
    return dest


def write_config_text(folder: Path, text: str) -> None:
    (folder / "graftzoo.json").write_text(text)


def rewrite_tensors(folder: Path, raw: bytes) -> None:
    """Replace head.safetensors by `raw` AND record its size and hash, so only its content is forged."""
    (folder / "head.safetensors").write_bytes(raw)
    config = json.loads((folder / "graftzoo.json").read_text())
    config["head_file"] = {"name": "head.safetensors", "bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}
    (folder / "graftzoo.json").write_text(json.dumps(config))


def load_within(folder: Path, fifo: Path | None = None) -> BaseException | None:
    """The exception `load_head(folder)` ends in (None: it loaded), failing the test if it hangs.

    A hung load is released by opening `fifo` for writing, so the test run itself goes on.
    """
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            load_head(folder)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG_SECONDS)
    if thread.is_alive():
        if fifo is not None:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail(f"load_head({folder}) hung for {HANG_SECONDS} s")
    return outcome[0]


# -- graftzoo.json: size and parsing ---------------------------------------------------------------


def test_an_oversized_graftzoo_json_is_refused_unread(saved_head: Path, tmp_path: Path) -> None:
    """Valid JSON padded past the cap loaded before (a 300 MB one was read whole and used)."""
    folder = copy_head(saved_head, tmp_path / "big")
    text = (saved_head / "graftzoo.json").read_text()
    write_config_text(folder, text + " " * (MAX_CONFIG_BYTES + 1 - len(text.encode())))
    with pytest.raises(ArtifactError, match=rf"graftzoo\.json has {MAX_CONFIG_BYTES + 1} bytes, more than the {MAX_CONFIG_BYTES}"):
        load_head(folder)


def test_a_graftzoo_json_at_the_cap_still_loads(saved_head: Path, tmp_path: Path) -> None:
    folder = copy_head(saved_head, tmp_path / "at-cap")
    text = (saved_head / "graftzoo.json").read_text()
    write_config_text(folder, text + " " * (MAX_CONFIG_BYTES - len(text.encode())))
    assert load_head(folder).predict(torch.rand(3, 64, 64))[0] in ("cat", "dog", "fish")


@pytest.mark.parametrize("depth", [200_000, 100], ids=["past-python-recursion", "deep-but-parsable"])
def test_deeply_nested_graftzoo_json_is_an_artifact_error(saved_head: Path, tmp_path: Path, depth: int) -> None:
    """200 000 levels raised a raw RecursionError; 100 levels in a field nothing checks were accepted."""
    folder = copy_head(saved_head, tmp_path / "deep")
    text = (saved_head / "graftzoo.json").read_text()
    write_config_text(folder, text.rstrip()[:-1] + ', "notes": {"x": ' + "[" * depth + "]" * depth + "}}")
    with pytest.raises(ArtifactError, match=r"graftzoo\.json is not valid JSON \(it nests"):
        load_head(folder)


@pytest.mark.parametrize(
    "stats",
    ['{"mean": [NaN, 0.4, 0.4], "std": [0.2, 0.2, 0.2]}', '{"mean": [Infinity, 0.4, 0.4], "std": [0.2, 0.2, 0.2]}',
     '{"mean": [0.4, 0.4, 0.4], "std": [Infinity, 0.2, 0.2]}', '{"mean": [1e999, 0.4, 0.4], "std": [0.2, 0.2, 0.2]}'],
    ids=["nan-mean", "inf-mean", "inf-std", "overflowing-mean"],
)
def test_non_finite_stats_are_refused(saved_head: Path, tmp_path: Path, stats: str) -> None:
    folder = copy_head(saved_head, tmp_path / "stats")
    config = json.loads((saved_head / "graftzoo.json").read_text())
    set_field(config, "stats", "STATS")
    write_config_text(folder, json.dumps(config).replace('"STATS"', stats))
    with pytest.raises(ArtifactError, match=r"graftzoo\.json is not valid JSON \((NaN|Infinity|1e999)"):
        load_head(folder)


def test_a_duplicated_key_is_refused(saved_head: Path, tmp_path: Path) -> None:
    """Two values for one key: which one a reader takes is up to the parser, so neither is taken."""
    folder = copy_head(saved_head, tmp_path / "twice")
    text = (saved_head / "graftzoo.json").read_text()
    write_config_text(folder, text.rstrip()[:-1] + ', "n_out": 3}')
    with pytest.raises(ArtifactError, match=r"key 'n_out' appears twice"):
        load_head(folder)


# -- size-like fields ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        pytest.param({"input_size": [3, 65536, 65536]}, "input_size", id="input-65536-square"),
        pytest.param({"input_size": [3, MAX_SIDE + 1, 224]}, "input_size", id="input-side-over-cap"),
        pytest.param({"input_size": [MAX_IN_CHANNELS + 1, 224, 224]}, "input_size", id="input-channels-over-cap"),
        pytest.param({"input_size": [224, 224]}, "input_size", id="input-without-channels"),
        pytest.param({"n_in": MAX_IN_CHANNELS + 1}, "n_in", id="n-in-over-cap"),
    ],
)
def test_size_fields_are_bounded_before_anything_is_built(saved_head: Path, tmp_path: Path, fields: dict[str, Any], named: str) -> None:
    forged = forge(saved_head, tmp_path / "forged", **fields)
    with pytest.raises(ArtifactError, match=rf"'?{named}'? must be"):
        load_head(forged)


def test_sizes_at_the_limits_still_load(saved_head: Path, tmp_path: Path) -> None:
    """The limits are inclusive; loading never allocates by input_size (only predict resizes to it)."""
    forged = forge(saved_head, tmp_path / "at-limits", input_size=[3, MAX_SIDE, MAX_SIDE])
    assert load_head(forged).artifact_info is not None


@pytest.fixture(scope="module")
def saved_unet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    model = graftzoo.graft(ARCH, "unet", n_out=2, img_size=64)
    return model.save_head(tmp_path_factory.mktemp("heads") / "masks")


@pytest.mark.parametrize("img_size", [40000, [40000, 40000], [64, 5000]])
def test_unet_img_size_is_bounded_by_the_heads_schema(saved_unet: Path, tmp_path: Path, img_size: Any) -> None:
    """A U-Net head sizes itself with a dummy forward at img_size: 40000² would allocate gigabytes."""
    forged = forge(saved_unet, tmp_path / "forged", head_kwargs={"img_size": img_size})
    with pytest.raises(ArtifactError, match="does not take these kwargs") as info:
        load_head(forged)
    assert "img_size: " in str(info.value)  # the schema error names the kwarg


def test_the_genuine_unet_still_loads(saved_unet: Path) -> None:
    mask, probs = load_head(saved_unet).predict(torch.rand(3, 64, 64))
    assert probs.shape[0] == 2 and mask.shape == probs.shape[1:]


# -- head.safetensors: header and dtypes ------------------------------------------------------------


def test_deeply_nested_safetensors_header_is_an_artifact_error(saved_head: Path, tmp_path: Path) -> None:
    """A 200 000-deep header raised a raw RecursionError."""
    folder = copy_head(saved_head, tmp_path / "deep-header")
    header = b'{"x": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    rewrite_tensors(folder, len(header).to_bytes(8, "little") + header)
    with pytest.raises(ArtifactError, match=r"not a valid safetensors file: its header is not JSON \(it nests"):
        load_head(folder)


def test_an_oversized_safetensors_header_is_refused_unread(saved_head: Path, tmp_path: Path) -> None:
    """A valid header padded with spaces past the cap loaded before (safetensors itself allows 100 MB)."""
    folder = copy_head(saved_head, tmp_path / "big-header")
    data = (saved_head / "head.safetensors").read_bytes()
    length = int.from_bytes(data[:8], "little")
    header = data[8:8 + length].rstrip() + b" " * (MAX_HEADER_BYTES + 1 - len(data[8:8 + length].rstrip()))
    rewrite_tensors(folder, len(header).to_bytes(8, "little") + header + data[8 + length:])
    with pytest.raises(ArtifactError, match=rf"header length \({MAX_HEADER_BYTES + 1}\) does not fit"):
        load_head(folder)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16, torch.int8, torch.bool])
def test_tensors_of_another_dtype_are_refused(saved_head: Path, tmp_path: Path, dtype: torch.dtype) -> None:
    """They loaded silently, cast into the model, and gave garbage probabilities."""
    from safetensors.torch import load_file

    folder = copy_head(saved_head, tmp_path / "dtype")
    tensors = load_file(str(saved_head / "head.safetensors"))
    forged = {k: (v.to(dtype) if k.startswith("head.") and v.is_floating_point() else v) for k, v in tensors.items()}
    save_file(forged, str(tmp_path / "forged.safetensors"))
    rewrite_tensors(folder, (tmp_path / "forged.safetensors").read_bytes())
    stored = {torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16", torch.int8: "I8", torch.bool: "BOOL"}[dtype]
    with pytest.raises(ArtifactError, match=rf"do not have the model's dtypes \(head\.\S+: stored {stored}, model F32"):
        load_head(folder)


def test_one_tensor_of_another_dtype_is_enough_to_refuse(saved_head: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file

    folder = copy_head(saved_head, tmp_path / "one-dtype")
    tensors = load_file(str(saved_head / "head.safetensors"))
    name = next(k for k, v in tensors.items() if k.endswith("running_var") or k.endswith(".bias"))
    tensors[name] = tensors[name].double()
    save_file(tensors, str(tmp_path / "forged.safetensors"))
    rewrite_tensors(folder, (tmp_path / "forged.safetensors").read_bytes())
    with pytest.raises(ArtifactError, match=rf"{name}: stored F64, model F32"):
        load_head(folder)


# -- regular files only ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["head.safetensors", "graftzoo.json"])
def test_a_fifo_in_place_of_a_file_is_refused_without_hanging(saved_head: Path, tmp_path: Path, name: str) -> None:
    folder = copy_head(saved_head, tmp_path / "fifo")
    (folder / name).unlink()
    os.mkfifo(folder / name)
    error = load_within(folder, fifo=folder / name)
    assert isinstance(error, ArtifactError), error
    assert f"{name} is not a regular file (it is a FIFO)" in str(error)


def test_a_fifo_readme_is_never_read_by_load_head(saved_head: Path, tmp_path: Path) -> None:
    """The model card is for people and the Hub; loading never opens it, so a FIFO there cannot hang it."""
    folder = copy_head(saved_head, tmp_path / "fifo-card")
    (folder / "README.md").unlink()
    os.mkfifo(folder / "README.md")
    assert load_within(folder, fifo=folder / "README.md") is None


@pytest.mark.parametrize("name", ["head.safetensors", "graftzoo.json"])
def test_a_device_or_folder_in_place_of_a_file_is_refused(saved_head: Path, tmp_path: Path, name: str) -> None:
    """/dev/zero behind a link would be read forever; a folder would raise a raw IsADirectoryError."""
    folder = copy_head(saved_head, tmp_path / "device")
    (folder / name).unlink()
    (folder / name).symlink_to("/dev/zero")
    with pytest.raises(ArtifactError, match=rf"{name} is not a regular file \(it is a character device\)"):
        load_head(folder)
    (folder / name).unlink()
    (folder / name).mkdir()
    with pytest.raises(ArtifactError, match=rf"{name} is not a regular file \(it is a folder\)"):
        load_head(folder)


def test_the_genuine_head_still_loads_and_predicts(saved_head: Path) -> None:
    model = load_head(saved_head)
    probs = model.predict(torch.rand(3, 64, 64))
    assert probs[0] in ("cat", "dog", "fish")
    assert all(p.dtype == torch.float32 for p in model.parameters())
