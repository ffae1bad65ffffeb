"""Checking a `[data]` section of a `graftzoo train` config: its keys, required keys and value types."""

from __future__ import annotations

from typing import Any

from graftzoo.errors import ConfigError

Allowed = dict[str, tuple[tuple[type, ...], str]]  # key -> (accepted Python types, what to write in the error)


def check_section(section: dict[str, Any], allowed: Allowed, kind: str, required: tuple[str, ...]) -> dict[str, Any]:
    """A copy of `section` once every key is known, present when required and of an accepted type;
    else a ConfigError naming `data.<key>` and what it must be."""
    unknown = sorted(set(section) - set(allowed))
    if unknown:
        raise ConfigError(f"data.{unknown[0]} is not a key of data kind {kind!r}; allowed keys: {sorted(allowed)}.")
    for key in required:
        if key not in section:
            raise ConfigError(f"data.{key} is missing: data kind {kind!r} needs {list(required)} ({allowed[key][1]}).")
    for key, value in section.items():
        types, what = allowed[key]
        if isinstance(value, bool) and bool not in types or not isinstance(value, types):
            raise ConfigError(f"data.{key} = {value!r}: expected {what}.")
    return dict(section)
