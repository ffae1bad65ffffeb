"""Costly details of a timm arch for `graftzoo info`: built on the meta device, so no memory is used."""

from __future__ import annotations

from typing import Any

from graftzoo.errors import ConfigError
from graftzoo_timm.listing import pretrained_cfg
from graftzoo_timm.probe import POOLED, probe_model


def describe(name: str) -> dict[str, Any]:
    """`{"num_features": C, "pooled": bool}` of the body `timm/<name>` gives with 3 input channels.

    A model that cannot run on the meta device reports timm's `num_features` alone: one arch that
    cannot be described must not mark the whole plugin as failed.
    """
    import timm
    import torch

    cfg = pretrained_cfg(name)
    with torch.device("meta"):
        model = timm.create_model(name, pretrained=False)
    channels, height, width = cfg.input_size
    try:
        probe = probe_model(model, (channels, height, width), int(width))
    except ConfigError:
        features = getattr(model, "num_features", None)
        return {"num_features": int(features)} if isinstance(features, int) else {}
    return {"num_features": probe.num_features, "pooled": probe.layout == POOLED}
