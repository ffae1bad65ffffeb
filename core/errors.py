"""Errors raised by graftzoo: each message says what was wrong and what to do."""

from __future__ import annotations


class GraftzooError(Exception):
    """Base class of every error graftzoo raises on purpose."""


class UnknownNameError(GraftzooError, KeyError):
    """A name that no installed plugin registers."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class AmbiguousNameError(GraftzooError, LookupError):
    """A bare name that several namespaces register, with no preference to pick one."""


class NameCollisionError(GraftzooError):
    """Two plugins register the same full name."""


class PluginError(GraftzooError):
    """A plugin failed to load, to register, or declares an unsupported API version."""


class SplitError(GraftzooError, ValueError):
    """A splitter that does not cover every parameter exactly once in at least two groups."""


class ManifestError(GraftzooError, ValueError):
    """A plugin manifest (or a hook's result) that cannot be read or does not follow the format."""


class ConfigError(GraftzooError, ValueError):
    """A configuration (head kwargs, graftzoo.json, manifest) that is not valid."""


class WeightsError(GraftzooError):
    """Weights that cannot be found, verified or loaded."""


class ArtifactError(GraftzooError):
    """A saved head that cannot be read, verified or rebuilt."""


class TrainingError(GraftzooError):
    """Training that cannot go on (a loss that became NaN or infinite, say)."""
