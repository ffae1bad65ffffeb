"""Finding what a timm model's features look like, and which of its modules a body never calls.

The probe runs the model on the meta device (shapes only, no arithmetic) through
`torch.func.functional_call` with meta copies of its tensors, so it costs milliseconds even for
large models and leaves the real weights untouched. Models whose forward cannot run on meta are
probed with a real forward on a small zero input instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import nn

from graftzoo.errors import ConfigError
from graftzoo_timm.features import TimmFeatureMap, TimmPooled

MAP = "map"
CHANNELS_LAST = "channels_last"
POOLED = "pooled"


@dataclass(frozen=True)
class FeatureProbe:
    """How a body should cut a timm model.

    `layout` is MAP ((B, C, H, W) features), CHANNELS_LAST ((B, H, W, C)) or POOLED (tokens or
    anything else: the body uses timm's pre-logits head). `num_features` is C of the body's
    output; `unused` names the top-most modules with tensors that the body's forward never calls.
    """

    layout: str
    num_features: int
    unused: tuple[str, ...]


def probe_model(model: nn.Module, input_size: tuple[int, int, int], fallback_size: int) -> FeatureProbe:
    """Probe `model.forward_features` (and `forward_head` for token models) on `input_size`."""
    map_net = TimmFeatureMap(model)
    features, called = run_recorded(map_net, input_size, fallback_size)
    if isinstance(features, torch.Tensor) and features.dim() == 4:
        channels_last = "NHWC" in str(getattr(model, "output_fmt", "NCHW")).upper()
        channels = features.shape[-1] if channels_last else features.shape[1]
        return FeatureProbe(CHANNELS_LAST if channels_last else MAP, int(channels), unused_modules(model, called))
    pooled, called = run_recorded(TimmPooled(model), input_size, fallback_size)
    if not isinstance(pooled, torch.Tensor) or pooled.dim() != 2:
        raise ConfigError(
            f"{type(model).__name__}'s pre-logits features have shape {_shape(pooled)}, not (batch, channels): "
            "pass cut=<int or callable> to cut this model yourself"
        )
    return FeatureProbe(POOLED, int(pooled.shape[-1]), unused_modules(model, called))


def run_recorded(net: nn.Module, input_size: tuple[int, int, int], fallback_size: int) -> tuple[Any, set[int]]:
    """`net`'s output for a zero batch of one, and the ids of every module its forward called.

    Tries the meta device at the full input size first, then a real forward at `fallback_size`.
    """
    attempts: list[Callable[[], Any]] = [
        lambda: _meta_forward(net, input_size),
        lambda: _real_forward(net, (input_size[0], fallback_size, fallback_size)),
    ]
    if fallback_size != input_size[-1]:
        attempts.append(lambda: _real_forward(net, input_size))
    errors = []
    for attempt in attempts:
        called: set[int] = set()
        hooks = [m.register_forward_pre_hook(lambda mod, _args: called.add(id(mod))) for m in net.modules()]
        was_training = net.training
        try:
            net.eval()
            with torch.no_grad():
                return attempt(), called
        except Exception as exc:  # any failure: try the next, slower way
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            net.train(was_training)
            for hook in hooks:
                hook.remove()
    raise ConfigError(
        f"cannot run {type(getattr(net, 'model', net)).__name__}.forward_features on a zero input "
        f"({'; '.join(e[:200] for e in errors)}): pass cut=<int or callable> to cut it yourself"
    )


def unused_modules(model: nn.Module, called: set[int]) -> tuple[str, ...]:
    """Top-most submodules holding tensors of which neither they nor any descendant was called."""
    unused: list[str] = []
    for name, module in model.named_modules():
        if not name or any(name.startswith(u + ".") for u in unused):
            continue
        if any(id(m) in called for m in module.modules()):
            continue
        if any(True for _ in module.parameters()) or any(True for _ in module.buffers()):
            unused.append(name)
    return tuple(unused)


def _meta_forward(net: nn.Module, input_size: tuple[int, int, int]) -> Any:
    state = {name: torch.empty_like(t, device="meta") for name, t in _tensors(net)}
    x = torch.zeros(1, *input_size, device="meta")
    return torch.func.functional_call(net, state, (x,), strict=False)


def _real_forward(net: nn.Module, input_size: tuple[int, int, int]) -> Any:
    device = next((p.device for p in net.parameters()), torch.device("cpu"))
    return net(torch.zeros(1, *input_size, device=device))


def _tensors(net: nn.Module) -> list[tuple[str, torch.Tensor]]:
    return list(net.named_parameters()) + list(net.named_buffers())


def _shape(value: Any) -> str:
    return str(tuple(value.shape)) if isinstance(value, torch.Tensor) else type(value).__name__
