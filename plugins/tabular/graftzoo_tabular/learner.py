"""`tabular_learner`: fastai's, with the model as a `tabular/embeddings_mlp` body and a `tabular/linear` head."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from graftzoo.learner import Learner
from graftzoo_tabular.cont_embeddings import quantile_bins
from graftzoo_tabular.errors import ConfigError
from graftzoo_tabular.model import tabular_model

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
    """AdamW with torch's fused kernel: one call steps every parameter (the default optimizer here)."""
    return torch.optim.AdamW(params, fused=True, **kwargs)


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
    if y_range is None:
        y_range = cfg.pop("y_range", None)
    cfg.pop("y_range", None)
    n_out = n_out or dls.c
    if not n_out:
        raise ConfigError("n_out is not given and the data loaders have no `c` (outputs); pass n_out=")
    pre = dls.preprocessor
    n_bins = int(cfg.pop("n_bins", 48))
    if cfg.get("cont_emb") == "piecewise_linear" and cfg.get("cont_bins") is None:
        cfg["cont_bins"] = quantile_bins(dls.train.tensors[1], n_bins)  # from the training rows only
    body_kwargs = {
        "layers": list(layers) if layers is not None else None,
        "emb_szs": dict(emb_szs) if emb_szs else None,
        **{k: (list(v) if isinstance(v, tuple) else v) for k, v in cfg.items() if k != "bn_final"},
    }
    head_kwargs = {"y_range": list(y_range) if y_range is not None else None, "bn_final": bool(cfg.get("bn_final", False))}
    task = pre.target.task if pre.target is not None else "core/classification"
    model = tabular_model(pre.input_spec(), int(n_out), task, weights=weights, body_kwargs=body_kwargs, head_kwargs=head_kwargs)
    model.vocab = [str(v) for v in dls.vocab] if dls.vocab is not None else None
    model.preprocessor = pre  # the lead's saved heads will take its state() from here
    learner_kwargs.setdefault("opt_func", adamw)
    learner_kwargs.setdefault("device", getattr(dls, "device", None))
    return Learner(dls, model, **learner_kwargs)


__all__ = ["adamw", "tabular_config", "tabular_learner"]
