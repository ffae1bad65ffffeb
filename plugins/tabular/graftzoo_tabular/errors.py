"""Errors raised while reading, preprocessing and batching tables."""

from __future__ import annotations

from graftzoo.errors import ConfigError, GraftzooError


class TableError(GraftzooError, ValueError):
    """A table (or a row) that cannot be used as given: a missing column, a wrong type, missing targets."""


__all__ = ["ConfigError", "TableError"]
