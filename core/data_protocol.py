"""`DataLoaders`: what a Learner's data must provide, and the optional parts core reads.

Required: `train` and `valid` (iterables of batches `(inputs..., target)`; `valid` may be None).
Optional, read only through `dls_attr` so the list below is the whole contract:
`vocab` (class names), `preprocessor` (a `graftzoo.Preprocessor`: raw items -> inputs, saved with
the head), `batch_transform(batch, train)` (a batch step on the device; it may take `gen=`, a CPU
torch.Generator its random augmentation then draws from, which `tta` uses), `encode_item(item)`
(legacy: one raw item -> inputs; `preprocessor` is preferred), `c` (number of outputs),
`n_in` (image channels), `size` (the input size), `stats` (normalization), `denormalize(x)`,
`test_dl(items)`, `show_results(learn, **kwargs)` (draws inputs with targets and predictions).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from graftzoo.errors import ConfigError

OPTIONAL = ("vocab", "preprocessor", "batch_transform", "encode_item", "c", "n_in", "size", "stats", "denormalize", "test_dl", "show_results")


@runtime_checkable
class DataLoaders(Protocol):
    """The required part of a Learner's data: a training loader and a validation loader (or None)."""

    train: Any
    valid: Any


def dls_attr(dls: Any, name: str) -> Any:
    """The optional part `name` of `dls` (see this module's docstring), or None when it lacks it."""
    if name not in OPTIONAL and name not in ("train", "valid"):
        raise ConfigError(f"{name!r} is not part of the DataLoaders contract; its parts are train, valid and {list(OPTIONAL)}")
    return getattr(dls, name, None) if dls is not None else None
