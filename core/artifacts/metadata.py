"""What `graftzoo.json` records besides tensors, gathered from a model or a Learner."""

from __future__ import annotations

import math
import platform
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from typing import TYPE_CHECKING, Any, Sequence

from graftzoo.errors import ArtifactError
from graftzoo.data_protocol import dls_attr

if TYPE_CHECKING:
    from graftzoo.grafting import GraftedModel


@dataclass
class Provenance:
    """The model to save and what is known about how it was trained."""

    model: GraftedModel
    classes: list[str] | None = None
    vocab: list[str] | None = None
    metrics: dict[str, float | None] = field(default_factory=dict)
    preprocessor: Any = None  # a graftzoo.Preprocessor: how raw items become the model's inputs
    training: dict[str, Any] = field(default_factory=dict)


def provenance(obj: Any, *, metrics: dict[str, Any] | None = None, vocab: Sequence[Any] | None = None) -> Provenance:
    """Read a GraftedModel, or a Learner (`.model`, `.dls` with `vocab` and `preprocessor`, `.recorder`)."""
    from graftzoo.grafting import GraftedModel
    from graftzoo.preprocessor import model_preprocessor

    model = getattr(obj, "model", obj)
    if not isinstance(model, GraftedModel):
        raise ArtifactError(
            f"save_head needs a model made by graftzoo.graft (or a Learner holding one), got {type(model).__name__}"
        )
    dls = getattr(obj, "dls", None)
    classes, input_vocab = _split_vocab(vocab if vocab is not None else dls_attr(dls, "vocab") or getattr(model, "vocab", None))
    info = getattr(model, "artifact_info", None) or {}
    prov = Provenance(
        model=model,
        classes=classes if classes is not None else info.get("classes"),
        vocab=input_vocab if input_vocab is not None else info.get("vocab"),
        metrics=_clean_metrics(metrics if metrics is not None else _recorder_metrics(getattr(obj, "recorder", None)) or info.get("metrics") or {}),
        preprocessor=model_preprocessor(model, dls),
    )
    if dls is not None:
        _warn_if_preprocessing_is_assumed(dls, model, prov.preprocessor)
    recorder = getattr(obj, "recorder", None)
    values = getattr(recorder, "values", None)
    if values:
        prov.training["epochs"] = len(values)
    if hasattr(obj, "train_bn"):
        prov.training["train_bn"] = bool(obj.train_bn)
    return prov


def _warn_if_preprocessing_is_assumed(dls: Any, model: Any, preprocessor: Any) -> None:
    """Data without a preprocessor (plain torch DataLoaders) leaves the head to assume the input kind's
    defaults for this arch: say so, since predictions on raw items differ if the data was prepared otherwise."""
    from graftzoo.preprocessor import Preprocessor

    if isinstance(dls_attr(dls, "preprocessor"), Preprocessor) or isinstance(getattr(model, "preprocessor", None), Preprocessor):
        return
    warnings.warn(
        f"the learner's data ({type(dls).__name__}) carries no preprocessor, so the saved head assumes "
        f"{preprocessor.kind}'s defaults for this arch: {preprocessor.state()}. If the training data was "
        "prepared otherwise (another size or normalization), the head's predictions on raw items will differ; "
        "build the data with the plugin's DataLoaders, or set `dls.preprocessor`.",
        UserWarning,
        stacklevel=3,
    )


def _split_vocab(vocab: Any) -> tuple[list[str] | None, list[str] | None]:
    """(classes, input vocab): fastai-style text dls have `[token_vocab, class_vocab]`."""
    if vocab is None:
        return None, None
    items = list(vocab)
    if len(items) == 2 and all(isinstance(v, (list, tuple)) for v in items):
        return [str(c) for c in items[1]], [str(t) for t in items[0]]
    return [str(c) for c in items], None


def _recorder_metrics(recorder: Any) -> dict[str, Any]:
    """The last epoch's losses and metrics, by name, when a Recorder has any."""
    values = getattr(recorder, "values", None)
    names = getattr(recorder, "metric_names", None)
    if not values or not names:
        return {}
    return dict(zip(list(names)[1:-1], values[-1]))


def _clean_metrics(metrics: dict[str, Any]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for name, value in metrics.items():
        number = float(value) if value is not None else None
        out[str(name)] = number if number is not None and math.isfinite(number) else None
    return out


def versions(distributions: Sequence[str]) -> dict[str, str]:
    """graftzoo's, torch's, Python's and the plugin distributions' versions."""
    out = {"python": platform.python_version()}
    for dist in ["graftzoo", "torch", *distributions]:
        if not dist or dist in out:
            continue
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "unknown"
    return out


def now() -> str:
    """The current UTC time, ISO 8601."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
