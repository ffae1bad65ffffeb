"""Checking plain data (TOML, JSON, hook results) against type hints, so a bad field names itself.

`check(value, hint, where)` raises `ManifestError` when `value` does not fit `hint`; the hints are
those of the spec dataclasses (`graftzoo.spec.SPEC_CLASSES`) and of the manifest tables, so a new
kind of spec is validated by its own fields without any code here naming it.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from typing import Any, Union

from graftzoo.errors import ManifestError


def check(value: Any, hint: Any, where: str) -> None:
    """Raise `ManifestError` naming `where` unless `value` fits the type `hint`."""
    found = problem(value, hint)
    if found is not None:
        raise ManifestError(f"{where} {found}")


def problem(value: Any, hint: Any) -> str | None:
    """None when `value` fits the type `hint`, else what is wrong ("must be an integer, got 'x' (str)")."""
    return _mismatch(value, hint)


def check_fields(data: dict[str, Any], cls: type, where: str) -> None:
    """Check every key of `data` against the annotation of the same field of dataclass `cls`."""
    hints = field_hints(cls)
    unknown = sorted(set(data) - set(hints))
    if unknown:
        raise ManifestError(f"{where}: unknown keys {unknown}; known keys: {sorted(hints)}")
    for key, value in data.items():
        check(value, hints[key], f"{where}: {key!r}")


def required_fields(cls: type) -> list[str]:
    """Fields of dataclass `cls` without a default."""
    missing = dataclasses.MISSING
    return [f.name for f in dataclasses.fields(cls) if f.default is missing and f.default_factory is missing]


@functools.cache
def field_hints(cls: type) -> dict[str, Any]:
    """The resolved type of each field of dataclass `cls`."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _mismatch(value: Any, hint: Any) -> str | None:
    """None when `value` fits `hint`, else a short description of what is wrong."""
    if hint is Any:
        return None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        if any(_mismatch(value, option) is None for option in args):
            return None
        return f"must be {_name(hint)}, got {_shown(value)}"
    if hint is type(None):
        return None if value is None else f"must be empty, got {_shown(value)}"
    if origin in (list, tuple) or hint in (list, tuple):
        if not isinstance(value, (list, tuple)):
            return f"must be {_name(hint)}, got {_shown(value)}"
        items = args
        if origin is tuple and items and items[-1] is not Ellipsis:
            if len(value) != len(items):
                return f"must be {_name(hint)} ({len(items)} items), got {len(value)} items"
        elif items:
            items = (items[0],) * len(value)
        for index, (item, item_hint) in enumerate(zip(value, items)):
            problem = _mismatch(item, item_hint)
            if problem is not None:
                return f"[{index}] {problem}"
        return None
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            return f"must be a table, got {_shown(value)}"
        key_hint, value_hint = args or (Any, Any)
        for key, item in value.items():
            problem = _mismatch(key, key_hint) or _mismatch(item, value_hint)
            if problem is not None:
                return f"[{key!r}] {problem}"
        return None
    if hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(hint, type):
        ok = isinstance(value, hint)
    else:  # a hint this checker does not know: accept rather than refuse a valid plugin
        ok = True
    return None if ok else f"must be {_name(hint)}, got {_shown(value)}"


def _name(hint: Any) -> str:
    if isinstance(hint, type) and not typing.get_args(hint):
        return {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false",
                "dict": "a table", "list": "a list", "NoneType": "empty"}.get(hint.__name__, hint.__name__)
    return str(hint).replace("typing.", "")


def _shown(value: Any) -> str:
    text = repr(value)
    return f"{text[:60]}... ({type(value).__name__})" if len(text) > 60 else f"{text} ({type(value).__name__})"
