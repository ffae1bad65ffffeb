"""The schema of `graftzoo.json` (format version 2; format 1 is read and upgraded) and its validation.

Format 2 stores `inputs` (the body's InputSpec) and `preprocessor` (`{kind, state}`: how raw items
become inputs) where format 1 stored the image-only `n_in`, `stats` and `input_size`. Validation
happens before anything is built: wrong types, unknown format versions and absurd sizes are
ArtifactErrors that name the file and the key, never a crash or a huge allocation. A
preprocessor's state is checked by its own `from_state` once the kind resolved in the registry.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Callable

from graftzoo.adapters.lora import check_adapters
from graftzoo.artifacts.untrusted import parse_json, read_bounded
from graftzoo.errors import ArtifactError
from graftzoo.spec import is_cut_name

FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
IMAGE_KIND = "vision/image"  # what format-1 heads (images only) are upgraded to
CONFIG_FILE = "graftzoo.json"
TENSORS_FILE = "head.safetensors"
CARD_FILE = "README.md"
MAX_OUTPUTS = 10**6
MAX_IN_CHANNELS = 64
"""Most input channels (`n_in`, the stats' length, input_size[0]): RGB is 3, multispectral tens."""
MAX_SIDE = 8192
"""Longest input side in pixels (`input_size` height and width): 8192² x 3 floats is already 768 MiB."""
MAX_CHILDREN = 10**4
MAX_CONFIG_BYTES = 16 * 1024 * 1024
"""Largest graftzoo.json read (a 250 000-token vocabulary fits in about 4 MiB)."""

_FULL_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_FINGERPRINT = re.compile(r"^sha256:[0-9a-f]{64}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _int(lo: int, hi: int) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        ok = isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi
        return None if ok else f"an integer from {lo} to {hi}"
    return check


def _str(pattern: re.Pattern[str] | None = None, what: str = "a string") -> Callable[[Any], str | None]:
    return lambda v: None if isinstance(v, str) and (pattern is None or pattern.match(v)) else what


def _optional(check: Callable[[Any], str | None]) -> Callable[[Any], str | None]:
    return lambda v: None if v is None else (None if check(v) is None else f"null or {check(v)}")


def _str_list(v: Any) -> str | None:
    return None if isinstance(v, list) and all(isinstance(s, str) for s in v) else "a list of strings"


def _cut(v: Any) -> str | None:
    """A cut never names code: null, an int, or the name of a cut a plugin registered."""
    ok = v is None or (isinstance(v, int) and not isinstance(v, bool) and abs(v) <= MAX_CHILDREN) or (isinstance(v, str) and is_cut_name(v))
    return None if ok else f"null, an int (at most {MAX_CHILDREN} in size) or a registered cut name (never a 'module:attr' path)"


def _dict(v: Any) -> str | None:
    return None if isinstance(v, dict) else "a JSON object"


def check_n_in(v: Any) -> str | None:
    """None when `v` is a valid number of input channels, else what it must be."""
    return _int(1, MAX_IN_CHANNELS)(v)


def check_stats(v: Any) -> str | None:
    """None when `v` is null or normalization stats (finite means, finite positive stds), else what it must be."""
    what = f"null or {{'mean': [numbers], 'std': [positive numbers]}}, finite, one value per channel (at most {MAX_IN_CHANNELS})"
    if v is None:
        return None
    if not isinstance(v, dict) or set(v) != {"mean", "std"}:
        return what
    mean, std = v["mean"], v["std"]
    numbers = all(isinstance(x, list) and 0 < len(x) <= MAX_IN_CHANNELS for x in (mean, std)) and all(
        isinstance(n, (int, float)) and not isinstance(n, bool) and math.isfinite(n) for n in [*mean, *std]
    )
    return None if numbers and len(mean) == len(std) and all(s > 0 for s in std) else what


def check_input_size(v: Any) -> str | None:
    """None when `v` is null or [channels, height, width] within MAX_IN_CHANNELS and MAX_SIDE, else what it must be."""
    what = f"null or [channels (1 to {MAX_IN_CHANNELS}), height, width (1 to {MAX_SIDE} pixels each)]"
    if v is None:
        return None
    ok = isinstance(v, list) and len(v) == 3 and check_n_in(v[0]) is None and all(_int(1, MAX_SIDE)(d) is None for d in v[1:])
    return None if ok else what


def _metrics(v: Any) -> str | None:
    ok = isinstance(v, dict) and all(
        isinstance(k, str) and (x is None or (isinstance(x, (int, float)) and not isinstance(x, bool))) for k, x in v.items()
    )
    return None if ok else "a JSON object of metric name -> number or null"


def _versions(v: Any) -> str | None:
    ok = isinstance(v, dict) and all(isinstance(k, str) and isinstance(x, str) for k, x in v.items())
    return None if ok else "a JSON object of distribution name -> version string"


def _body_tensors(v: Any) -> str | None:
    ok = isinstance(v, list) and all(isinstance(k, str) and k.startswith("body.") for k in v)
    return None if ok else "a list of tensor names starting with 'body.'"


def _head_file(v: Any) -> str | None:
    ok = isinstance(v, dict) and v.get("name") == TENSORS_FILE and _int(0, 2**62)(v.get("bytes")) is None and (
        isinstance(v.get("sha256"), str) and _SHA256.match(v["sha256"]) is not None
    )
    return None if ok else f"{{'name': '{TENSORS_FILE}', 'bytes': int, 'sha256': 64 hex digits}}"


def _inputs(v: Any) -> str | None:
    ok = isinstance(v, dict) and isinstance(v.get("kind"), str) and _FULL_NAME.match(v["kind"]) is not None
    return None if ok else "a JSON object with a 'kind' (a registered input kind 'namespace/name') and its parameters"


def _adapters(v: Any) -> str | None:
    """Null, or LoRA settings whose target_modules are names (checked against the built body on load)."""
    problem = None if v is None else check_adapters(v)
    if problem is None and v is not None and v["target_modules"] is None:
        problem = "'target_modules' must list the adapted layers"
    return None if problem is None else f"null or LoRA settings {{'kind': 'lora', 'r', 'alpha', 'dropout', 'target_modules'}}: {problem}"


def _preprocessor(v: Any) -> str | None:
    ok = (isinstance(v, dict) and set(v) == {"kind", "state"} and isinstance(v["kind"], str)
          and _FULL_NAME.match(v["kind"]) is not None and isinstance(v["state"], dict))
    return None if ok else "{'kind': a registered preprocessor 'namespace/name', 'state': a JSON object}"


FIELDS: dict[str, Callable[[Any], str | None]] = {
    "format_version": lambda v: None if v == FORMAT_VERSION and type(v) is int else f"{FORMAT_VERSION}, the format this graftzoo writes",
    "arch": _str(_FULL_NAME, "a full registry name 'namespace/name'"),
    "body_weights": _optional(_str()),
    "body_fingerprint": _optional(_str(_FINGERPRINT, "'sha256:' and 64 hex digits")),
    "inputs": _inputs,
    "body_kwargs": _dict,
    "preprocessor": _preprocessor,
    "cut": _cut,
    "head": _str(_FULL_NAME, "a full registry name 'namespace/name'"),
    "head_kwargs": _dict,
    "n_out": _int(1, MAX_OUTPUTS - 1),
    "task": _str(_FULL_NAME, "a full registry name 'namespace/name'"),
    "classes": _optional(_str_list),
    "vocab": _optional(_str_list),
    "metrics": _metrics,
    "versions": _versions,
    "body_tensors": _body_tensors,
    "adapters": _adapters,
    "head_file": _head_file,
    "created": _str(),
}


# format 1's image-only fields, replaced in format 2 by `inputs` and `preprocessor`
V1_FIELDS: dict[str, Callable[[Any], str | None]] = {"n_in": check_n_in, "stats": check_stats, "input_size": check_input_size}


def validate_config(data: Any, source: str | Path = CONFIG_FILE) -> dict[str, Any]:
    """Return `data` as a valid format-2 `graftzoo.json` (format 1 upgraded), else raise ArtifactError saying why."""
    if not isinstance(data, dict):
        raise ArtifactError(f"{source} must hold a JSON object; it holds {type(data).__name__}. Save the head again.")
    version = data.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise ArtifactError(
            f"{source} has format_version {version}, newer than this graftzoo reads ({FORMAT_VERSION}): "
            "upgrade graftzoo (pip install -U graftzoo)."
        )
    if version == 1 and type(version) is int:
        data = upgrade_v1(data, source)
    if "adapters" not in data:
        data = {**data, "adapters": None}  # heads saved before adapters existed: a plain body
    missing = [key for key in FIELDS if key not in data]
    if missing:
        raise ArtifactError(f"{source} lacks {missing}: it is not a complete saved head. Save or pull it again.")
    problems = [f"{key!r} must be {why} (got {_short(data[key])})" for key, check in FIELDS.items() if (why := check(data[key]))]
    for key in ("classes",):
        if isinstance(data.get(key), list) and isinstance(data.get("n_out"), int) and not classes_fit(data["n_out"], len(data[key])):
            problems.append(f"{key!r} has {len(data[key])} names for n_out={data['n_out']} outputs")
    if not isinstance(data.get("training", {}), dict):
        problems.append("'training' must be a JSON object when present")
    if data.get("body_weights") is not None and data.get("body_fingerprint") is None:
        problems.append("'body_fingerprint' is null although 'body_weights' names source weights")
    if problems:
        raise ArtifactError(f"{source} is not a valid saved head: " + "; ".join(problems) + ". Save or pull it again.")
    return data


def upgrade_v1(data: dict[str, Any], source: str | Path) -> dict[str, Any]:
    """A format-1 config (images only: n_in, stats, input_size) as format 2, after checking those fields."""
    missing = [key for key in V1_FIELDS if key not in data]
    if missing:
        raise ArtifactError(f"{source} lacks {missing}: it is not a complete saved head. Save or pull it again.")
    problems = [f"{key!r} must be {why} (got {_short(data[key])})" for key, check in V1_FIELDS.items() if (why := check(data[key]))]
    if problems:
        raise ArtifactError(f"{source} is not a valid saved head: " + "; ".join(problems) + ". Save or pull it again.")
    upgraded = {k: v for k, v in data.items() if k not in V1_FIELDS}
    upgraded["format_version"] = FORMAT_VERSION
    upgraded["inputs"] = {"kind": IMAGE_KIND, "n_in": data["n_in"]}
    upgraded["body_kwargs"] = {}
    state = {"n_in": data["n_in"], "stats": data["stats"], "input_size": data["input_size"]}
    upgraded["preprocessor"] = {"kind": IMAGE_KIND, "state": state}
    return upgraded


def classes_fit(n_out: int, n_classes: int) -> bool:
    """One class name per output, or two names for a binary head with one output (negative, positive)."""
    return n_classes == n_out or (n_out == 1 and n_classes == 2)


def read_config(folder: Path) -> dict[str, Any]:
    """Read and validate `folder/graftzoo.json` (a regular file of at most MAX_CONFIG_BYTES, strict JSON)."""
    path = Path(folder) / CONFIG_FILE
    try:
        raw = read_bounded(path, MAX_CONFIG_BYTES)
    except FileNotFoundError:
        raise ArtifactError(f"{Path(folder)} holds no {CONFIG_FILE}: it is not a saved head (save one with graftzoo.save_head).") from None
    return validate_config(parse_json(raw, path), path)


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
