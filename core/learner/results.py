"""`Learner.show_results`: the data draws inputs with their targets and the model's predictions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graftzoo.data_protocol import dls_attr
from graftzoo.errors import ConfigError

if TYPE_CHECKING:
    from graftzoo.learner.learner import Learner


def show_results(learn: Learner, **kwargs: Any) -> Any:
    """Inputs with their targets and predictions, drawn by the data (`dls.show_results(learn, **kwargs)`):
    saved in the plot folder (or `path=`) and shown inline in notebooks; returns what the data returns."""
    show = dls_attr(learn.dls, "show_results")
    if show is None:
        raise ConfigError(
            f"{type(learn.dls).__name__} cannot draw results: it has no show_results(learn, ...). Use data "
            "loaders that do (e.g. graftzoo_vision's ImageDataLoaders or SegmentationDataLoaders)."
        )
    return show(learn, **kwargs)
