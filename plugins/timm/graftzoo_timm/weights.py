"""The `timm:` weight source: `timm:<model>.<tag>` (or `timm:<model>` for the default tag).

Where the weights live comes from timm's pretrained config: a Hugging Face repo (`hf_hub_id`,
`model.safetensors` or `pytorch_model.bin`), else a URL (torch's hub checkpoint folder), else a file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from graftzoo.download import download
from graftzoo.errors import WeightsError
from graftzoo.offline import OfflineError, WeightsOfflineError, is_offline, offline_switch
from graftzoo.spec import ArchSpec
from graftzoo.weights import WeightSource, split_ref
from graftzoo_timm.hub_cache import hub_file

HUB_FILES = ["model.safetensors", "pytorch_model.bin"]


class TimmWeights(WeightSource):
    """timm's pretrained weights, found in the Hugging Face cache (downloaded only when online)."""

    scheme = "timm"

    def base_model(self, ref: str, arch: str) -> str | None:
        """`timm/<model>.<tag>`, the Hub repo timm publishes these weights in (`timm:<tag>` takes the model from `arch`)."""
        name = split_ref(ref)[1].lstrip("/")
        return f"timm/{name}" if "." in name else f"timm/{arch.split('/', 1)[1]}.{name}"

    def resolve(self, ref: str, arch: ArchSpec | None = None) -> Path:
        cfg = pretrained_cfg(ref)
        if cfg.hf_hub_id:
            files = [cfg.hf_hub_filename] if cfg.hf_hub_filename else HUB_FILES
            return hub_file(cfg.hf_hub_id, files)
        if cfg.url:
            return url_file(cfg.url)
        if cfg.file:
            return Path(cfg.file)
        raise WeightsError(
            f"timm knows no location for the weights {ref!r}; pick another tag (`timm.list_pretrained('{cfg.architecture}*')`)"
        )


def pretrained_cfg(ref: str) -> Any:
    """timm's pretrained config for `timm:<model>.<tag>`, or a WeightsError listing the known tags."""
    import timm
    from timm.models import get_arch_pretrained_cfgs, get_pretrained_cfg

    scheme, name = split_ref(ref)
    if scheme != "timm":
        raise WeightsError(f"{ref!r} is not a timm: weights reference")
    try:
        cfg = get_pretrained_cfg(name, allow_unregistered=False)
    except RuntimeError:
        cfg = None
    if cfg is None:
        known = sorted(get_arch_pretrained_cfgs(name))
        if known:
            tags = ", ".join(f"timm:{k}" for k in known)
            raise WeightsError(f"timm has no pretrained tag {name!r}; {name.split('.')[0]} has: {tags}")
        close = timm.list_models(f"{name.split('.')[0][:6]}*")[:8]
        raise WeightsError(f"timm has no model {name.split('.')[0]!r} (from {ref!r}); similar models: {close}")
    return cfg


def model_kwargs(ref: str | None) -> dict[str, Any]:
    """`timm.create_model` kwargs the weights `ref` need (their number of classes, for `timm:` refs)."""
    if ref is None or not ref.startswith("timm:"):
        return {}
    return {"num_classes": pretrained_cfg(ref).num_classes}


def url_file(url: str) -> Path:
    """A URL-only checkpoint: torch's hub checkpoint folder, downloaded there (bounded waits) when online."""
    import torch

    target = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(url).path)
    if target.is_file():
        return target
    if is_offline():
        raise WeightsOfflineError(f"{target} is missing and {offline_switch()} is set: download {url} to that path")
    try:
        return download(url, target, None)
    except WeightsError as exc:
        kind = WeightsOfflineError if isinstance(exc, OfflineError) else WeightsError
        raise kind(f"cannot download {url} to {target} ({exc}); put the file there by hand") from exc
