"""Trained heads as artifacts: save, load, push, pull, describe.

    graftzoo.artifacts.save_head(learn, "pets-head")           # head.safetensors, graftzoo.json, README.md
    model = graftzoo.artifacts.load_head("pets-head")           # or "ns/name@rev", "hf://ns/name"
    labels, probs = model.predict(["cat.jpg"])
    rev = graftzoo.artifacts.push_head("pets-head", "alice/pets", hub="hf")

Names are imported on first use, so `describe_artifact` (used by `graftzoo info`) stays torch-free.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "save_head": "graftzoo.artifacts.save",
    "load_head": "graftzoo.artifacts.load",
    "FingerprintWarning": "graftzoo.artifacts.load",
    "push_head": "graftzoo.artifacts.push",
    "pull_head": "graftzoo.artifacts.push",
    "describe_artifact": "graftzoo.artifacts.describe",
    "is_hub_ref": "graftzoo.artifacts.locate",
    "predict": "graftzoo.artifacts.predict",
    "fingerprint_state_dict": "graftzoo.artifacts.fingerprint",
    "source_fingerprint": "graftzoo.artifacts.fingerprint",
    "validate_config": "graftzoo.artifacts.schema",
    "FORMAT_VERSION": "graftzoo.artifacts.schema",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'graftzoo.artifacts' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
