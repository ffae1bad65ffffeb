"""Weight sources: turning a reference such as `torchvision:ResNet34_Weights.IMAGENET1K_V1` into tensors."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from graftzoo.errors import WeightsError
from graftzoo.spec import ArchSpec

if TYPE_CHECKING:  # torch loads when tensors are read, so asking a source about a reference stays light
    import torch

StateDict = dict[str, "torch.Tensor"]


class WeightSource(ABC):
    """Resolves references of one scheme to a verified local file and reads it as a state dict.

    The state dict is keyed for the full network that the arch's factory builds (before the cut).
    """

    scheme: str = ""

    @abstractmethod
    def resolve(self, ref: str, arch: ArchSpec | None = None) -> Path:
        """A local, verified file for `ref`; a clear WeightsError when it is missing (never a hang)."""

    def base_model(self, ref: str, arch: str) -> str | None:
        """The Hub model (`ns/name`) these weights come from, for a model card's `base_model`; None if none."""
        return None

    def load_state_dict(self, ref: str, arch: ArchSpec | None = None) -> StateDict:
        """The tensors of `ref`, ready for `model.load_state_dict`."""
        return read_state_dict(self.resolve(ref, arch))


def split_ref(ref: str) -> tuple[str, str]:
    """`'scheme:rest'` → `('scheme', 'rest')`."""
    scheme, sep, rest = ref.partition(":")
    if not sep or not scheme or not rest:
        raise WeightsError(f"weights reference {ref!r} has no scheme; write it as 'scheme:...' (e.g. 'file:///path/w.safetensors')")
    return scheme, rest


def read_state_dict(path: Path) -> StateDict:
    """Read safetensors, or a torch checkpoint with `weights_only=True` (no code from the file is ever run)."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file {path} does not exist")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except Exception as exc:
            raise WeightsError(f"{path} is not a readable safetensors file ({exc}); delete it and fetch it again") from exc
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WeightsError(f"{path} is not a checkpoint that loads with weights_only=True ({exc})") from exc
    for key in ("state_dict", "model", "model_state_dict"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{path} does not hold a state dict of tensors")
    return state


class FileWeights(WeightSource):
    """`file:///abs/path.safetensors` (or a torch checkpoint) on this machine."""

    scheme = "file"

    def resolve(self, ref: str, arch: ArchSpec | None = None) -> Path:
        parsed = urlparse(ref)
        path = Path(unquote(parsed.path) if parsed.netloc in ("", "localhost") else unquote(parsed.netloc + parsed.path))
        if not path.is_file():
            raise WeightsError(f"weights file {path} (from {ref!r}) does not exist")
        return path


def weight_source(scheme: str) -> WeightSource:
    """The registered weight source serving `scheme:` references."""
    from graftzoo.imports import import_attr
    from graftzoo.registry import current

    spec = current().weight_source_for(scheme)
    return import_attr(spec.factory)()


_READ_ONCE: ContextVar[dict[tuple[str, str | None], StateDict] | None] = ContextVar("graftzoo_read_once", default=None)


@contextmanager
def reading_weights_once() -> Iterator[None]:
    """Within the block each weights reference is read from its source once (save_head and load_head
    need the same source weights for the fingerprint and for the body)."""
    token = _READ_ONCE.set({})
    try:
        yield
    finally:
        _READ_ONCE.reset(token)


def source_state_dict(ref: str, arch: ArchSpec | None = None) -> StateDict:
    """The tensors `ref` names, read through the weight source of its scheme (once per `reading_weights_once`)."""
    cache = _READ_ONCE.get()
    key = (ref, arch.name if arch else None)
    if cache is not None and key in cache:
        return cache[key]
    state = weight_source(split_ref(ref)[0]).load_state_dict(ref, arch)
    if cache is not None:
        cache[key] = state
    return state


def load_weights(model: torch.nn.Module, ref: str, arch: ArchSpec | None = None) -> None:
    """Load the weights `ref` names into `model`, every key accounted for, explaining a mismatch.

    torch's own loading decides what is missing, so checkpoints from older torch versions load
    (BatchNorm fills the `num_batches_tracked` they lack, versioned modules convert themselves).
    """
    state = source_state_dict(ref, arch)
    name = arch.name if arch else "this model"
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # tensors whose shapes do not fit
        raise WeightsError(f"weights {ref!r} do not fit {name}: {exc}") from exc
    missing, unexpected = sorted(result.missing_keys), sorted(result.unexpected_keys)
    if missing or unexpected:
        raise WeightsError(
            f"weights {ref!r} do not fit {name}: "
            f"missing {missing[:5]}{'…' if len(missing) > 5 else ''}, unexpected {unexpected[:5]}{'…' if len(unexpected) > 5 else ''}"
        )
