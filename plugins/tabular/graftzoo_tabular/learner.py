"""`tabular_learner`: fastai's, with the model as a `tabular/embeddings_mlp` body and a `tabular/linear` head."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from graftzoo.learner import Learner
from graftzoo_tabular.cont_embeddings import quantile_bins
from graftzoo_tabular.errors import ConfigError
from graftzoo_tabular.model import tabular_model
from graftzoo_tabular.optimizer import LeanAdamW

CONFIG_KEYS = (
    "ps", "embed_p", "use_bn", "bn_final", "bn_cont", "lin_first", "y_range",
    "cont_emb", "cont_emb_dim", "cont_emb_sigma", "cont_bins", "n_bins",
)


def tabular_config(**kwargs: Any) -> dict[str, Any]:
    """fastai's `tabular_config`: the model's keyword arguments, checked by name."""
    unknown = sorted(set(kwargs) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError(f"unknown tabular config key(s) {unknown}; known: {list(CONFIG_KEYS)}")
    return dict(kwargs)


def adamw(params: Any, **kwargs: Any) -> torch.optim.Optimizer:
    """AdamW with torch's fused kernel: one call steps every parameter (the default optimizer here);
    `LeanAdamW` calls it without torch's per-step Python bookkeeping."""
    return LeanAdamW(params, **kwargs)


def tabular_learner(
    dls: Any,
    layers: Sequence[int] | None = None,
    emb_szs: Mapping[str, int] | None = None,
    config: Mapping[str, Any] | None = None,
    n_out: int | None = None,
    y_range: Sequence[float] | None = None,
    weights: str | None = None,
    **learner_kwargs: Any,
) -> Learner:
    """A Learner on `dls` (TabularDataLoaders) with fastai's TabularModel as body + head.

    `layers` default [200, 100]; `emb_szs` maps column names to embedding widths (else fastai's
    `emb_sz_rule`); `config` is `tabular_config(...)` (ps, embed_p, use_bn, bn_final, bn_cont,
    lin_first, y_range; and `cont_emb="periodic" | "piecewise_linear"` with `cont_emb_dim`,
    `cont_emb_sigma`, `n_bins` for numeric-feature embeddings); `n_out` defaults to `dls.c`.
    The loss and metric come from the target kind:
    cross-entropy and accuracy, MSE and RMSE, or binary cross-entropy and multi-label accuracy.
    """
    cfg = tabular_config(**(config or {}))
    y_range = cfg.pop("y_range", None) if y_range is None else y_range
    cfg.pop("y_range", None)
    n_out = n_out or dls.c
    if not n_out:
        raise ConfigError("n_out is not given and the data loaders have no `c` (outputs); pass n_out=")
    pre = dls.preprocessor
    n_bins = int(cfg.pop("n_bins", 48))
    if cfg.get("cont_emb") == "piecewise_linear" and cfg.get("cont_bins") is None:
        cfg["cont_bins"] = quantile_bins(dls.train.tensors[1], n_bins)  # from the training rows only
    settings = {"layers": layers, "emb_szs": emb_szs, **{k: v for k, v in cfg.items() if k != "bn_final"}}
    body_kwargs = {k: _plain(v) for k, v in settings.items() if v is not None}
    head_kwargs = {k: _plain(v) for k, v in (("y_range", y_range), ("bn_final", cfg.get("bn_final"))) if v is not None}
    task = pre.target.task if pre.target is not None else "core/classification"
    model = tabular_model(pre.input_spec(), int(n_out), task, weights=weights, body_kwargs=body_kwargs, head_kwargs=head_kwargs)
    model.vocab = dls.vocab  # class names; the Learner hands dls.preprocessor to the model
    learner_kwargs.setdefault("opt_func", adamw)
    learner_kwargs.setdefault("device", getattr(dls, "device", None))
    return Learner(dls, model, **learner_kwargs)


def _plain(value: Any) -> Any:
    """JSON-ready settings: tuples become lists, mappings dicts."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value

__all__ = ["adamw", "tabular_config", "tabular_learner"]
