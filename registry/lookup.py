"""Turning what a user typed into one registered full name, or an error that helps."""

from __future__ import annotations

import difflib
import os
from typing import Collection, Mapping

from graftzoo.errors import AmbiguousNameError, UnknownNameError

KIND_WORDS = {"archs": "arch", "heads": "head", "tasks": "task", "weights": "weight source", "hubs": "hub", "commands": "command", "cuts": "cut", "preprocessors": "preprocessor", "data": "data section"}


def namespace_preference() -> tuple[str, ...]:
    """Namespaces that win a bare-name tie, first first, from `GRAFTZOO_PREFER` (comma separated)."""
    raw = os.environ.get("GRAFTZOO_PREFER", "")
    return tuple(ns.strip() for ns in raw.split(",") if ns.strip())


def kind_word(kind: str) -> str:
    """'arch' for 'archs'; a kind core adds later reads as itself without its plural 's'."""
    return KIND_WORDS.get(kind, kind.removesuffix("s"))


def resolve_name(
    kind: str,
    name: str,
    names: Collection[str],
    suggest: Mapping[str, str] | None = None,
    priorities: Mapping[str, int] | None = None,
) -> str:
    """The full name `name` stands for among `names` (full `namespace/name` strings; a dict or set is fastest).

    A bare name several namespaces register goes to the first namespace in `GRAFTZOO_PREFER`, else
    to the namespace whose plugin declares the highest `priority` (`priorities`: namespace -> priority);
    a tie at the top is an `AmbiguousNameError` listing the candidates.
    """
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
    ranks = priorities or {}
    best = max(ranks.get(ns, 0) for ns in by_namespace)
    top = [full for ns, full in by_namespace.items() if ranks.get(ns, 0) == best]
    if len(top) == 1:
        return top[0]
    raise AmbiguousNameError(
        f"{kind_word(kind)} {name!r} is registered by several plugins of equal priority: {', '.join(candidates)}. "
        f"Use the full name, or set GRAFTZOO_PREFER to rank namespaces."
    )


def _unknown_message(kind: str, name: str, names: list[str], suggest: Mapping[str, str]) -> str:
    word = kind_word(kind)
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
