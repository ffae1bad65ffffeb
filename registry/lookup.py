"""Turning what a user typed into one registered full name, or an error that helps."""

from __future__ import annotations

import difflib
import os
from typing import Collection, Mapping

from graftzoo.errors import AmbiguousNameError, UnknownNameError

DEFAULT_PREFERENCE = ("vision", "torchvision", "timm")
KIND_WORDS = {"archs": "arch", "heads": "head", "tasks": "task", "weights": "weight source", "hubs": "hub", "cuts": "cut", "preprocessors": "preprocessor", "data": "data section"}


def namespace_preference() -> tuple[str, ...]:
    """Namespaces that win a bare-name tie, first first: `GRAFTZOO_PREFER` or vision, torchvision, timm."""
    raw = os.environ.get("GRAFTZOO_PREFER", "")
    chosen = tuple(ns.strip() for ns in raw.split(",") if ns.strip())
    return chosen or DEFAULT_PREFERENCE


def resolve_name(kind: str, name: str, names: Collection[str], suggest: Mapping[str, str] | None = None) -> str:
    """The full name `name` stands for among `names` (full `namespace/name` strings; a dict or set is fastest)."""
    if "/" in name:
        if name in names:
            return name
        raise UnknownNameError(_unknown_message(kind, name, list(names), suggest or {}))
    candidates = sorted(full for full in names if full.split("/", 1)[1] == name)
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise UnknownNameError(_unknown_message(kind, name, list(names), suggest or {}))
    by_namespace = {full.split("/", 1)[0]: full for full in candidates}
    for namespace in namespace_preference():
        if namespace in by_namespace:
            return by_namespace[namespace]
    raise AmbiguousNameError(
        f"{KIND_WORDS[kind]} {name!r} is registered by several plugins: {', '.join(candidates)}. "
        f"Use the full name, or set GRAFTZOO_PREFER to rank namespaces."
    )


def _unknown_message(kind: str, name: str, names: list[str], suggest: Mapping[str, str]) -> str:
    word = KIND_WORDS[kind]
    namespace, _, bare = name.rpartition("/")
    lines = [f"no {word} named {name!r} is registered."]
    if namespace and namespace in suggest and not any(full.startswith(namespace + "/") for full in names):
        lines.append(f"The {namespace!r} namespace comes from a plugin that is not installed: pip install {suggest[namespace]}")
    bare_names = {full.split("/", 1)[1]: full for full in names}
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.6)
    close += [bare_names[b] for b in difflib.get_close_matches(bare or name, list(bare_names), n=5, cutoff=0.6)]
    close = list(dict.fromkeys(close))[:5]
    if close:
        lines.append(f"Did you mean: {', '.join(close)}?")
    lines.append(f"`graftzoo list --kind {kind}` shows every registered {word}.")
    return " ".join(lines)
