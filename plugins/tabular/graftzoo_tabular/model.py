"""`tabular_model`: a `tabular/linear` head grafted onto a `tabular/embeddings_mlp` body, through `graftzoo.graft`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graftzoo.grafting import GraftedModel, graft
from graftzoo.inputs import InputSpec
from graftzoo_tabular.body import ARCH

HEAD = "tabular/linear"


def tabular_model(
    inputs: InputSpec | Mapping[str, Any],
    n_out: int,
    task: str = "core/classification",
    *,
    weights: str | None = None,
    body_kwargs: Mapping[str, Any] | None = None,
    head_kwargs: Mapping[str, Any] | None = None,
) -> GraftedModel:
    """The grafted model for the input spec `inputs` (`dls.preprocessor.input_spec()`) with `n_out`
    outputs trained by registry task `task`. `body_kwargs` (layers, ps, emb_szs, ...) and
    `head_kwargs` (y_range, bn_final) are checked against the manifest's schemas; `weights` is a
    weights reference for the body, e.g. `head://alice/adult-income` (a body trained for another target)."""
    return graft(
        ARCH, HEAD, n_out=n_out, inputs=InputSpec.from_json(inputs), weights=weights, task=task,
        body_kwargs=dict(body_kwargs or {}), head_kwargs=dict(head_kwargs or {}),
    )
