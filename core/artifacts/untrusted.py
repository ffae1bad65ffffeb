"""Reading the files of a saved head as untrusted input: regular files only, bounded, strict JSON.

A pulled head may hold anything in place of its files: a FIFO (reading it would hang), a device,
a 300 MB `graftzoo.json`, JSON nested 200 000 deep (Python's parser recurses) or `NaN` where a
number belongs. Each of these is an ArtifactError here, before more than the bounded size is read.
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from graftzoo.errors import ArtifactError

MAX_JSON_DEPTH = 32
"""Deepest nesting of lists and objects accepted in graftzoo.json or a safetensors header."""


@contextmanager
def open_regular(path: Path) -> Iterator[IO[bytes]]:
    """`path` opened for binary reading, refused unless it is a regular file (never blocks on a FIFO).

    O_NONBLOCK makes opening a FIFO return at once; the type is then checked on the open file
    itself, so a file swapped after a check cannot slip through.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ArtifactError(f"cannot read {path} ({exc}); check the file exists and is readable") from exc
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _not_regular(path, mode)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle


def check_regular(path: Path) -> os.stat_result:
    """The stat of `path` (links followed), or an ArtifactError when it is not a regular file."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ArtifactError(f"cannot read {path} ({exc}); check the file exists and is readable") from exc
    if not stat.S_ISREG(info.st_mode):
        raise _not_regular(path, info.st_mode)
    return info


def read_bounded(path: Path, max_bytes: int) -> bytes:
    """The bytes of the regular file `path`, refused unread when it is larger than `max_bytes`."""
    with open_regular(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > max_bytes:
            raise ArtifactError(
                f"{path} has {size} bytes, more than the {max_bytes} a saved head's {path.name} may have; "
                "it is not a head graftzoo wrote. Save or pull the head again."
            )
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:  # grew while being read
        raise ArtifactError(f"{path} is larger than {max_bytes} bytes; save or pull the head again.")
    return data


def parse_json(raw: bytes | str, source: Path | str) -> Any:
    """`loads_strict(raw)`, with an ArtifactError naming `source` when it is not acceptable JSON."""
    try:
        return loads_strict(raw)
    except ValueError as exc:
        raise ArtifactError(f"{source} is not valid JSON ({exc}); save or pull the head again") from None


def loads_strict(raw: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """JSON without NaN/Infinity or overflowing numbers, duplicate keys, or nesting deeper than `max_depth`.

    Every failure is a ValueError (RecursionError from Python's parser included).
    """
    try:
        value = json.loads(raw, parse_constant=_no_constant, parse_float=_finite_float, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise ValueError("it nests too deeply to parse") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8: {exc}") from None
    depth = json_depth(value)
    if depth > max_depth:
        raise ValueError(f"it nests {depth} levels deep, more than {max_depth}")
    return value


def json_depth(value: Any) -> int:
    """How deeply lists and objects nest in `value` (a scalar is 0), walked without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, depth + 1)
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text[:20]} overflows a float")
    return number


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"key {key[:60]!r} appears twice")
        out[key] = value
    return out


def _not_regular(path: Path, mode: int) -> ArtifactError:
    return ArtifactError(
        f"{path} is not a regular file (it is a {_kind(mode)}); a saved head holds plain files only. "
        "Save or pull the head again."
    )


def _kind(mode: int) -> str:
    kinds = [(stat.S_ISFIFO, "FIFO"), (stat.S_ISDIR, "folder"), (stat.S_ISCHR, "character device"),
             (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket")]
    return next((name for test, name in kinds if test(mode)), "special file")
