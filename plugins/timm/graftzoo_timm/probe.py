"""Finding what a timm model's features look like, and which of its modules a body never calls.

The probe runs the model on the meta device (shapes only, no arithmetic) through
`torch.func.functional_call` with meta copies of its tensors, so it is cheap even for large
models and leaves the real weights untouched. Models whose forward cannot run on meta are
probed with a real forward on a small zero input instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import nn

from graftzoo.errors import ConfigError

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


class _ProbeNet(nn.Module):
    """forward_features, then the pre-logits head unless the features are a spatial map.

    Also returns how many module calls (recorded in `calls` by hooks) the features took.
    """

    def __init__(self, model: nn.Module, calls: list[int]) -> None:
        super().__init__()
        self.model = model
        self.calls = calls

    def forward(self, x: torch.Tensor) -> tuple[Any, Any, int]:
        features = self.model.forward_features(x)
        n_feature_calls = len(self.calls)
        if isinstance(features, torch.Tensor) and features.dim() == 4:
            return features, None, n_feature_calls
        return features, self.model.forward_head(features, pre_logits=True), n_feature_calls


def probe_model(model: nn.Module, input_size: tuple[int, int, int], fallback_size: int) -> FeatureProbe:
    """Probe `model` on a zero input of `input_size` (a real one of `fallback_size` if meta fails)."""
    calls: list[int] = []
    features, pooled, n_feature_calls = run_recorded(_ProbeNet(model, calls), calls, input_size, fallback_size)
    if pooled is None:
        channels_last = "NHWC" in str(getattr(model, "output_fmt", "NCHW")).upper()
        channels = features.shape[-1] if channels_last else features.shape[1]
        used = set(calls[:n_feature_calls])
        return FeatureProbe(CHANNELS_LAST if channels_last else MAP, int(channels), unused_modules(model, used))
    if not isinstance(pooled, torch.Tensor) or pooled.dim() != 2:
        raise ConfigError(
            f"{type(model).__name__}'s pre-logits features have shape {_shape(pooled)}, not (batch, channels): "
            "pass cut=<int or callable> to cut this model yourself"
        )
    return FeatureProbe(POOLED, int(pooled.shape[-1]), unused_modules(model, set(calls)))


def run_recorded(net: nn.Module, calls: list[int], input_size: tuple[int, int, int], fallback_size: int) -> Any:
    """`net`'s output for a zero batch of one; `calls` receives the id of each module called, in order.

    Tries the meta device at the full input size first, then real forwards (small size first).
    """
    attempts: list[Callable[[], Any]] = [
        lambda: _meta_forward(net, input_size),
        lambda: _real_forward(net, (input_size[0], fallback_size, fallback_size)),
    ]
    if fallback_size != input_size[-1]:
        attempts.append(lambda: _real_forward(net, input_size))
    errors = []
    hooks = [m.register_forward_pre_hook(lambda mod, _args: calls.append(id(mod))) for m in net.modules()]
    was_training = net.training
    try:
        net.eval()
        for attempt in attempts:
            calls.clear()
            try:
                with torch.no_grad():
                    return attempt()
            except Exception as exc:  # any failure: try the next, slower way
                errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        net.train(was_training)
        for hook in hooks:
            hook.remove()
    model = getattr(net, "model", net)
    raise ConfigError(
        f"cannot run {type(model).__name__}.forward_features on a zero input "
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
