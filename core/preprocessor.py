"""The `Preprocessor` contract: raw items in, the model's input tensors out, its state plain JSON.

A preprocessor is registered like an arch (`[[preprocessors]]` in a plugin manifest) under the
name of the input kind it serves (`vision/image`, `text/tokens`, `tabular/columns`). Data loaders
expose theirs as `dls.preprocessor`; `save_head` stores `{kind, state}` in graftzoo.json and
`load_head` rebuilds it with `from_state`, so `predict` works anywhere with no training code.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Sequence

import torch

from graftzoo.errors import ConfigError, GraftzooError
from graftzoo.inputs import InputSpec


class Preprocessor(ABC):
    """Turns raw items (a path, a string, a table row, ...) into the model's input tensors."""

    kind: ClassVar[str] = ""  # the registered input kind, e.g. "vision/image"

    @abstractmethod
    def input_spec(self) -> InputSpec:
        """The InputSpec of the bodies this preprocessor feeds."""

    @abstractmethod
    def state(self) -> dict[str, Any]:
        """Everything needed to preprocess again, as plain JSON."""

    @classmethod
    @abstractmethod
    def from_state(cls, state: dict[str, Any]) -> Preprocessor:
        """The preprocessor `state()` describes; a ConfigError naming the bad key for a bad state."""

    @classmethod
    @abstractmethod
    def for_model(cls, model: Any) -> Preprocessor:
        """A default for a grafted model never trained with data (e.g. the body's pretrained stats)."""

    @abstractmethod
    def is_single(self, item: Any) -> bool:
        """Whether `item` is one raw item (rather than a batch of them)."""

    @abstractmethod
    def encode(self, items: Sequence[Any]) -> tuple[torch.Tensor, ...]:
        """The model's input tensors for a batch of raw items (each tensor's first dim is the batch)."""

    def batch_items(self, inputs: Any) -> tuple[bool, list[Any]]:
        """(single, items): one item becomes a list of one; a list/tuple of items stays as it is."""
        if self.is_single(inputs):
            return True, [inputs]
        if isinstance(inputs, (list, tuple)) and len(inputs) > 0:
            return False, list(inputs)
        raise ConfigError(f"{type(self).__name__} takes one item or a non-empty list of items, got {type(inputs).__name__}")


def preprocessor_class(kind: str) -> type[Preprocessor]:
    """The Preprocessor class registered for input kind `kind` (the plugin to install is named if missing)."""
    from graftzoo.imports import import_attr
    from graftzoo.registry import current

    spec = current().get("preprocessors", kind)
    cls = import_attr(spec.factory)
    if not (isinstance(cls, type) and issubclass(cls, Preprocessor)):
        raise ConfigError(f"preprocessor {spec.name!r} ({spec.factory}) is not a graftzoo.Preprocessor subclass")
    return cls


def preprocessor_from_state(kind: str, state: dict[str, Any]) -> Preprocessor:
    """Rebuild a stored preprocessor through the registry (never by a path read from the file)."""
    cls = preprocessor_class(kind)
    if not isinstance(state, dict):
        raise ConfigError(f"the state of preprocessor {kind!r} must be a JSON object")
    try:
        return cls.from_state(state)
    except GraftzooError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"the stored state of preprocessor {kind!r} is not valid ({type(exc).__name__}: {exc})") from exc


def model_preprocessor(model: Any, dls: Any = None) -> Preprocessor:
    """The data's preprocessor, else the model's (a loaded head's), else the input kind's default."""
    for holder in (dls, model):
        pre = getattr(holder, "preprocessor", None)
        if isinstance(pre, Preprocessor):
            return pre
    return preprocessor_class(model.inputs.kind).for_model(model)
