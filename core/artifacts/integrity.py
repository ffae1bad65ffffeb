"""Checking a saved head's files without torch: config schema, file size and hash, tensor header."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graftzoo.artifacts.header import TensorEntry, read_header
from graftzoo.artifacts.schema import TENSORS_FILE, read_config
from graftzoo.artifacts.untrusted import check_regular
from graftzoo.errors import ArtifactError
from graftzoo.hashing import sha256_file

BODY_PREFIX = "body."
HEAD_PREFIX = "head."


def check_artifact(folder: Path) -> tuple[dict[str, Any], dict[str, TensorEntry]]:
    """(validated graftzoo.json, tensor header) of the saved head in `folder`, or an ArtifactError."""
    config = read_config(folder)
    path = Path(folder) / TENSORS_FILE
    check_file(path, config["head_file"])
    entries = read_header(path)
    stored = sorted(k for k in entries if k.startswith(BODY_PREFIX))
    others = sorted(k for k in entries if not k.startswith((BODY_PREFIX, HEAD_PREFIX)))
    if others or stored != sorted(config["body_tensors"]):
        what = f"unexpected tensors {others[:5]}" if others else "its body tensors are not the ones graftzoo.json lists"
        raise ArtifactError(f"{path} does not match graftzoo.json ({what}); save or pull the head again.")
    return config, entries


def check_file(path: Path, expected: dict[str, Any]) -> None:
    """The file must be a regular file with the size and sha256 graftzoo.json recorded (truncation, bit rot)."""
    try:
        size = check_regular(path).st_size
    except FileNotFoundError:
        raise ArtifactError(f"{path} is missing: the artifact is incomplete. Save or pull it again.") from None
    if size != expected["bytes"]:
        raise ArtifactError(
            f"{path} has {size} bytes but graftzoo.json expects {expected['bytes']}: the file is truncated or "
            "damaged. Save or pull the head again."
        )
    if sha256_file(path) != expected["sha256"]:  # a regular file (checked above); remembered while unchanged
        raise ArtifactError(
            f"{path} is corrupted: its sha256 is not the one graftzoo.json recorded. Save or pull the head again."
        )
