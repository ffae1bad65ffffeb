"""Reading a safetensors file's header WITHOUT loading its tensors, checking that it is whole.

A safetensors file is an 8-byte little-endian header length, a JSON header mapping each tensor
name to `{dtype, shape, data_offsets}`, then the tensors' bytes back to back. Checking the header
against the file size catches truncated and corrupted files before anything is allocated.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from graftzoo.artifacts.untrusted import loads_strict, open_regular
from graftzoo.errors import ArtifactError

DTYPE_BYTES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8,
}
MAX_HEADER_BYTES = 16 * 1024 * 1024
"""Largest safetensors header read (100 000 tensors take about 10 MiB)."""


@dataclass(frozen=True)
class TensorEntry:
    """What the header says about one tensor."""

    dtype: str
    shape: tuple[int, ...]
    nbytes: int


def read_header(path: Path) -> dict[str, TensorEntry]:
    """Tensor name -> entry, after checking the header is well formed and covers the file exactly."""
    path = Path(path)
    try:
        with open_regular(path) as handle:
            size = os.fstat(handle.fileno()).st_size
            prefix = handle.read(8)
            header_len = int.from_bytes(prefix, "little") if len(prefix) == 8 else -1
            if header_len < 2 or header_len > min(MAX_HEADER_BYTES, size - 8):
                raise _broken(path, f"its header length ({header_len}) does not fit a file of {size} bytes (nor {MAX_HEADER_BYTES})")
            raw = handle.read(header_len)
    except FileNotFoundError:
        raise ArtifactError(f"{path} is missing: the artifact is incomplete. Save or pull it again.") from None
    except OSError as exc:
        raise ArtifactError(f"cannot read {path} ({exc}); check the file exists and is readable") from exc
    try:
        header = loads_strict(raw)
    except ValueError as exc:
        raise _broken(path, f"its header is not JSON ({exc})") from None
    if not isinstance(header, dict):
        raise _broken(path, "its header is not a JSON object")
    header.pop("__metadata__", None)
    entries = {name: _entry(path, name, info) for name, info in header.items()}
    _check_layout(path, header, size - 8 - header_len)
    return entries


def _entry(path: Path, name: str, info: object) -> TensorEntry:
    if not isinstance(info, dict) or not isinstance(info.get("dtype"), str):
        raise _broken(path, f"tensor {name!r} has no dtype")
    dtype, shape, offsets = info["dtype"], info.get("shape"), info.get("data_offsets")
    if dtype not in DTYPE_BYTES:
        raise _broken(path, f"tensor {name!r} has unknown dtype {dtype!r}")
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise _broken(path, f"tensor {name!r} has an invalid shape {shape!r}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) and o >= 0 for o in offsets)):
        raise _broken(path, f"tensor {name!r} has invalid data offsets {offsets!r}")
    nbytes = math.prod(shape) * DTYPE_BYTES[dtype]
    if offsets[1] - offsets[0] != nbytes:
        raise _broken(path, f"tensor {name!r} of shape {shape} needs {nbytes} bytes but spans {offsets[1] - offsets[0]}")
    return TensorEntry(dtype, tuple(shape), nbytes)


def _check_layout(path: Path, header: dict, data_bytes: int) -> None:
    """The tensors must tile the data section exactly: no gap, no overlap, nothing missing."""
    position = 0
    for begin, end in sorted(tuple(info["data_offsets"]) for info in header.values()):
        if begin != position:
            raise _broken(path, f"its tensors leave a gap or overlap at byte {position}")
        position = end
    if position != data_bytes:
        how = "truncated" if position > data_bytes else "longer than its header says"
        raise _broken(path, f"it is {how}: the header describes {position} bytes of tensors, the file holds {data_bytes}")


def _broken(path: Path, why: str) -> ArtifactError:
    return ArtifactError(
        f"{path} is not a valid safetensors file: {why}. The artifact is damaged; save or pull it again."
    )
