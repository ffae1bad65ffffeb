"""Errors raised while gathering, labelling and batching image data."""

from __future__ import annotations

from graftzoo.errors import ConfigError


class DataError(ConfigError):
    """Image data that cannot be found, opened or used as given (bad input, like any ConfigError)."""


class LabelError(DataError):
    """An item whose label cannot be worked out (a file name the pattern does not match, say)."""


class CollateError(DataError):
    """Items that cannot be stacked into one batch (images of different sizes, say)."""


__all__ = ["CollateError", "ConfigError", "DataError", "LabelError"]
