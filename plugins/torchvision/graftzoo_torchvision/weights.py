"""The `torchvision:` weight source: torchvision's pretrained checkpoints, from the torch hub cache.

References:
- `torchvision:ResNet50_Weights.IMAGENET1K_V2`: a member of a torchvision weights enum;
- `torchvision:IMAGENET1K_V1` or `torchvision:DEFAULT`: a member of the arch's own enum;
- `torchvision:resnet18-f37072fd.pth`: a checkpoint already in the cache, under torch.hub's naming.

Files live where torchvision keeps them (`torch.hub.get_dir()/checkpoints`, i.e. `$TORCH_HOME/hub/checkpoints`),
are checked against the sha256 prefix in their names, and load with `weights_only=True`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from graftzoo.errors import WeightsError
from graftzoo.offline import OfflineError, WeightsOfflineError, offline_switch
from graftzoo.spec import ArchSpec
from graftzoo.weights import StateDict, WeightSource, read_state_dict, split_ref
from graftzoo_torchvision.download import download, hash_prefix, offline, verify_hash

CHECKPOINT_SUFFIXES = (".pth", ".pt", ".safetensors")
TORCHVISION_FACTORY = "torchvision.models:"
# torchvision's densenet checkpoints predate module names without dots ("norm.1" → "norm1").
LEGACY_DENSENET_KEY = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$")

@dataclass(frozen=True)
class Checkpoint:
    """What a reference's file is called, and where it comes from (`url`; None for a file named directly)."""

    filename: str
    url: str | None = None


class TorchvisionWeights(WeightSource):
    """Resolves `torchvision:` references to verified files in the torch hub cache, downloading when allowed."""

    scheme = "torchvision"

    def __init__(self, cache_dir: str | Path | None = None, timeout: float | None = None) -> None:
        """`timeout`: seconds to wait for the server at each step (default: GRAFTZOO_NET_TIMEOUT, read at each download)."""
        self._cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.timeout = timeout

    @property
    def cache_dir(self) -> Path:
        """`cache_dir` if given, else torchvision's own: `torch.hub.get_dir()/checkpoints` (follows TORCH_HOME)."""
        if self._cache_dir is not None:
            return self._cache_dir
        import torch.hub

        return Path(torch.hub.get_dir()) / "checkpoints"

    def checkpoint(self, ref: str, arch: ArchSpec | None = None) -> Checkpoint:
        """The file (and URL) that `ref` stands for, after checking it fits `arch`."""
        scheme, name = split_ref(ref)
        if scheme != self.scheme:
            raise WeightsError(f"{ref!r} is not a torchvision reference; write it as torchvision:ResNet50_Weights.IMAGENET1K_V2")
        if name.endswith(CHECKPOINT_SUFFIXES):
            if Path(name).name != name:
                raise WeightsError(f"{ref!r}: name a file inside the torch hub cache ({self.cache_dir}), not a path")
            return Checkpoint(filename=name)
        weights = _enum_member(name, arch)
        if arch is not None:
            _check_fits(weights, arch)
        return Checkpoint(filename=Path(urlparse(weights.url).path).name, url=weights.url)

    def resolve(self, ref: str, arch: ArchSpec | None = None) -> Path:
        checkpoint = self.checkpoint(ref, arch)
        path = self.cache_dir / checkpoint.filename
        if not path.is_file():
            self._fetch(ref, checkpoint, path)
        _verify_once(path, hash_prefix(checkpoint.filename))
        return path

    def load_state_dict(self, ref: str, arch: ArchSpec | None = None) -> StateDict:
        """The checkpoint's tensors, legacy DenseNet keys renamed in place (keeping `_metadata`, which
        tells BatchNorm and MNASNet how old the checkpoint is)."""
        state = read_state_dict(self.resolve(ref, arch))
        for key in [k for k in state if LEGACY_DENSENET_KEY.match(k)]:
            state[_modern_key(key)] = state.pop(key)
        return state

    def _fetch(self, ref: str, checkpoint: Checkpoint, path: Path) -> None:
        missing = f"weights {ref!r} need {checkpoint.filename}, which is not in the torch hub cache {self.cache_dir}."
        if checkpoint.url is None:
            raise WeightsError(f"{missing} Put the checkpoint at {path}, or name a torchvision weights enum member instead.")
        put = f"Download {checkpoint.url} and save it as {path}"
        if offline():
            raise WeightsOfflineError(f"{missing} {offline_switch()} is set, so it was not downloaded. {put}, or unset it.")
        try:
            download(checkpoint.url, path, hash_prefix(checkpoint.filename), timeout=self.timeout)
        except WeightsError as exc:
            kind = WeightsOfflineError if isinstance(exc, OfflineError) else WeightsError
            raise kind(f"{missing} {exc} {put}.") from exc


def _enum_member(name: str, arch: ArchSpec | None) -> Any:
    """`Enum.MEMBER` from any torchvision weights enum, or `MEMBER` of the arch's own enum."""
    from torchvision.models import get_model_weights, get_weight

    if "." in name:
        try:
            return get_weight(name)
        except (ValueError, KeyError) as exc:
            raise WeightsError(f"torchvision has no weights {name!r} ({exc}); see `graftzoo info <arch>` for the default") from exc
    model = _model_name(arch)
    if model is None:
        raise WeightsError(f"'torchvision:{name}' names no enum; write it in full, e.g. torchvision:ResNet50_Weights.{name}")
    enum = get_model_weights(model)
    try:
        return enum[name]
    except KeyError:
        known = ", ".join(member.name for member in enum)
        raise WeightsError(f"{enum.__name__} has no member {name!r}; choose one of {known} (or DEFAULT)") from None


def _model_name(arch: ArchSpec | None) -> str | None:
    """The torchvision builder name of `arch` (`resnet50`), when its factory is a torchvision builder."""
    if arch is None or not arch.factory.startswith(TORCHVISION_FACTORY):
        return None
    return arch.factory[len(TORCHVISION_FACTORY):]


def _check_fits(weights: Any, arch: ArchSpec) -> None:
    """Refuse weights made for another torchvision model, or a ViT built for another image size."""
    model = _model_name(arch)
    if model is None:
        return
    from torchvision.models import get_model_weights

    enum = get_model_weights(model)
    if not isinstance(weights, enum):
        raise WeightsError(
            f"{weights!r} are weights for another model, not {arch.name}; use a member of {enum.__name__}: "
            + ", ".join(f"torchvision:{member!r}" for member in enum)
        )
    size = weights.meta.get("min_size", (0, 0))[0]
    built = arch.factory_kwargs.get("image_size", 224)
    if model.startswith("vit_") and size != built:
        raise WeightsError(
            f"{weights!r} were trained at {size}x{size}, but {arch.name} builds a ViT for {built}x{built}: "
            f"its position embeddings would not fit. Use {arch.default_weights} or an arch built with image_size={size}."
        )


def _verify_once(path: Path, prefix: str | None) -> None:
    """Check the hash of `path`; graftzoo.hashing hashes an unchanged file once per process."""
    verify_hash(path, prefix)


def _modern_key(key: str) -> str:
    """`features.denseblock1.denselayer1.norm.1.weight` → `features.denseblock1.denselayer1.norm1.weight`."""
    match = LEGACY_DENSENET_KEY.match(key)
    return match.group(1) + match.group(2) if match else key
