"""Grafting a `tabular/linear` head onto a `tabular/embeddings_mlp` body built from an input spec.

Today's `graft()` passes only `n_in` to bodies, so this builds body and head itself and wraps them
in core's GraftedModel with a config that records the input spec and the body's kwargs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graftzoo.grafting import GraftedModel
from graftzoo.head import check_json_kwargs
from graftzoo.imports import import_attr
from graftzoo_tabular.body import ARCH, tabular_body
from graftzoo_tabular.errors import ConfigError
from graftzoo_tabular.head import linear_head

HEAD = "tabular/linear"


def tabular_model(
    inputs: Mapping[str, Any],
    n_out: int,
    task: str = "core/classification",
    *,
    weights: str | None = None,
    body_kwargs: Mapping[str, Any] | None = None,
    head_kwargs: Mapping[str, Any] | None = None,
) -> GraftedModel:
    """The grafted model for the input spec `inputs` with `n_out` outputs trained by registry task `task`."""
    from graftzoo.registry import current

    if not isinstance(n_out, int) or n_out < 1:
        raise ConfigError(f"n_out must be a positive int (classes or target columns), got {n_out!r}")
    body_kw = check_json_kwargs(dict(body_kwargs or {}), ARCH)
    head_kw = check_json_kwargs(dict(head_kwargs or {}), HEAD)
    registry = current()
    spec = registry.get("archs", ARCH)
    body = tabular_body(spec, weights=weights, inputs=inputs, **body_kw)
    head = linear_head(body, n_out, **head_kw)
    task_spec = registry.get("tasks", task)
    config = {
        "arch": spec.name, "weights": weights, "n_in": None, "cut": None, "head": HEAD, "n_out": n_out,
        "head_kwargs": head_kw, "task": task_spec.name, "inputs": dict(inputs), "body_kwargs": body_kw,
    }
    return GraftedModel(body, head, task=import_attr(task_spec.factory)(), config=config)
