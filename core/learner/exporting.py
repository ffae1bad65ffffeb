"""`Learner.export` and `load_learner`: fastai's pair, as a saved head folder (no pickle)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graftzoo.errors import ConfigError

if TYPE_CHECKING:
    from graftzoo.learner.learner import Learner

__all__ = ["ExportedData", "export", "load_learner"]


def export(self: Learner, fname: str | os.PathLike[str] = "export") -> Path:
    """Save what inference needs as a head folder at `self.path / fname` (fastai writes `export.pkl`).

    The folder is a saved head (see `save_head`): head.safetensors (the head and every body tensor
    training changed), graftzoo.json (architecture, body weights reference, task, class names and
    the data's preprocessing) and README.md. `load_learner(folder)` rebuilds a Learner from it.
    """
    _no_pickle(fname)
    return self.save_head(self.path / fname)


def _no_pickle(fname: str | os.PathLike[str]) -> None:
    if Path(fname).suffix == ".pkl":
        raise ConfigError(
            f"{str(fname)!r}: graftzoo never pickles; export() writes a folder (default 'export' under learn.path) "
            "and load_learner() reads that folder. Drop the '.pkl'."
        )


class ExportedData:
    """The data part of a loaded Learner: no batches, only the saved preprocessing and class names."""

    valid: Any = None

    @property
    def train(self) -> Any:
        """There is no training data: training raises a ConfigError that says what to do."""
        raise ConfigError(
            "this Learner comes from load_learner and holds no data to train on; assign DataLoaders "
            "first (learn.dls = ImageDataLoaders.from_folder(...), say), or pass dl= to get_preds/validate."
        )

    def __init__(self, preprocessor: Any, vocab: list[Any] | None) -> None:
        self.preprocessor, self.vocab = preprocessor, vocab

    @property
    def c(self) -> int | None:
        """Number of classes, when there are class names."""
        return None if self.vocab is None else len(self.vocab)


def load_learner(fname: str | os.PathLike[str], cpu: bool = True, **learner_kwargs: Any) -> Learner:
    """A Learner for inference from what `learn.export()` (or `save_head`) wrote; `predict(item)`
    gives `(label, decoded, probabilities)` as the exporting Learner did.

    `fname` is the export folder, or any reference `load_head` takes (`ns/name@rev`, `hf://...`).
    `cpu` keeps the model on the CPU (else the default device). Its `dls` hold no data: assign new
    DataLoaders (`learn.dls = ...`) to train it further.
    """
    from graftzoo.artifacts import load_head
    from graftzoo.learner.learner import Learner

    _no_pickle(fname)
    model = load_head(fname)
    dls = ExportedData(model.preprocessor, model.vocab)
    learner_kwargs.setdefault("quiet", True)
    if cpu:
        learner_kwargs.setdefault("device", "cpu")
    path = Path(fname)
    learner_kwargs.setdefault("path", path.parent if path.is_dir() else Path("."))
    return Learner(dls, model, **learner_kwargs)
