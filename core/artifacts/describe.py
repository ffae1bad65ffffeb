"""What `graftzoo info REF` shows for a saved head; reads JSON only, never imports torch."""

from __future__ import annotations

import os
from typing import Any

from graftzoo.artifacts.integrity import check_artifact
from graftzoo.artifacts.locate import located
from graftzoo.artifacts.model_card import base_model, fine_tuning_kind, human_size

MAX_CLASSES = 20


def describe_artifact(ref: str | os.PathLike[str]) -> dict[str, Any]:
    """A flat dict describing the saved head at `ref` (folder, `ns/name[@rev]` or `hf://…`)."""
    with located(ref) as folder:
        config, _ = check_artifact(folder)
    classes = config["classes"]
    size = config["head_file"]["bytes"]
    return {
        "kind": "saved head",
        "ref": str(ref),
        "folder": str(folder),
        "task": config["task"],
        "head": config["head"],
        "head_kwargs": config["head_kwargs"],
        "n_out": config["n_out"],
        "classes": _classes(classes),
        "arch": config["arch"],
        "body_weights": config["body_weights"] or "none (the body is stored whole)",
        "base_model": base_model(config["body_weights"], config["arch"]),
        "body_fingerprint": config["body_fingerprint"],
        "body": (config.get("training") or {}).get("body") or f"{len(config['body_tensors'])} body tensors stored",
        "fine_tuning": fine_tuning_kind(config),
        "inputs": config["inputs"],
        "preprocessor": config["preprocessor"]["kind"],
        **{f"preprocessor.{k}": v for k, v in config["preprocessor"]["state"].items()},
        "metrics": config["metrics"],
        "size": f"{human_size(size)} ({size} bytes)",
        "created": config["created"],
        "versions": config["versions"],
        "format_version": config["format_version"],
    }


def _classes(classes: list[str] | None) -> Any:
    if classes is None:
        return None
    if len(classes) <= MAX_CLASSES:
        return classes
    return [*classes[:MAX_CLASSES], f"... {len(classes) - MAX_CLASSES} more"]

