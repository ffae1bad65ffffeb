"""Finding what a timm model's features look like, and which of its modules a body never calls.

The probe runs the model on the meta device (shapes only, no arithmetic), its tensors swapped
for meta ones for the duration, so it is cheap even for large models and leaves the real
weights untouched. Models whose forward cannot run on meta are probed with a real forward on a
small zero input instead.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

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


class _UseRecorder(TorchFunctionMode):
    """Records the names of the watched tensors (parameters, buffers) that torch functions receive."""

    def __init__(self, names_by_id: dict[int, list[str]]) -> None:
        super().__init__()
        self.names_by_id = names_by_id
        self.used: set[str] = set()

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        for value in (*args, *kwargs.values()):
            for item in value if isinstance(value, (list, tuple)) else (value,):
                names = self.names_by_id.get(id(item))
                if names:
                    self.used.update(names)
        return func(*args, **kwargs)


class _ProbeNet(nn.Module):
    """forward_features, then the pre-logits head unless the features are a spatial map.

    Also returns the names of the model's tensors that the features used, and that both used.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model: Any = model  # a timm model: forward_features and forward_head are not nn.Module's

    def forward(self, x: torch.Tensor) -> tuple[Any, Any, set[str], set[str]]:
        names_by_id: dict[int, list[str]] = {}
        for name, tensor in _tensors(self.model):
            names_by_id.setdefault(id(tensor), []).append(name)
        with _UseRecorder(names_by_id) as recorder:
            features = self.model.forward_features(x)
            feature_uses = set(recorder.used)
            if isinstance(features, torch.Tensor) and features.dim() == 4:
                return features, None, feature_uses, feature_uses
            return features, self.model.forward_head(features, pre_logits=True), feature_uses, set(recorder.used)


def probe_model(model: nn.Module, input_size: tuple[int, int, int], fallback_size: int) -> FeatureProbe:
    """Probe `model` on a zero input of `input_size` (a real one of `fallback_size` if meta fails)."""
    calls: list[int] = []
    features, pooled, feature_uses, all_uses = run_recorded(_ProbeNet(model), calls, input_size, fallback_size)
    if pooled is None:
        channels_last = "NHWC" in str(getattr(model, "output_fmt", "NCHW")).upper()
        channels = features.shape[-1] if channels_last else features.shape[1]
        layout = CHANNELS_LAST if channels_last else MAP
        return FeatureProbe(layout, int(channels), unused_modules(model, set(calls), feature_uses))
    if not isinstance(pooled, torch.Tensor) or pooled.dim() != 2:
        raise ConfigError(
            f"{type(model).__name__}'s pre-logits features have shape {tuple(getattr(pooled, 'shape', ()))}, not (batch, channels): "
            "pass cut=<int or callable> to cut this model yourself"
        )
    return FeatureProbe(POOLED, int(pooled.shape[-1]), unused_modules(model, set(calls), all_uses))


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
        f"cannot run {type(model).__name__}'s forward_features (and forward_head for token features) on a zero input "
        f"({'; '.join(e[:200] for e in errors)}): pass cut=<int or callable> to cut it yourself"
    )


def unused_modules(model: nn.Module, called: set[int], used: set[str]) -> tuple[str, ...]:
    """Top-most submodules with tensors that were neither called (they or a descendant) nor had a tensor used.

    Both tests are needed: Beit's attention passes `self.qkv.weight` to F.linear without calling
    `self.qkv`, and a module may be called without touching its tensors.
    """
    unused: list[str] = []
    for name, module in model.named_modules():
        if not name or any(name.startswith(u + ".") for u in unused):
            continue
        if any(id(m) in called for m in module.modules()):
            continue
        names = [f"{name}.{n}" for n, _ in _tensors(module)]
        if names and not any(n in used for n in names):
            unused.append(name)
    return tuple(unused)


def _meta_forward(net: nn.Module, input_size: tuple[int, int, int]) -> Any:
    with _on_meta(net):
        return net(torch.zeros(1, *input_size, device="meta"))


@contextmanager
def _on_meta(net: nn.Module) -> Iterator[None]:
    """Swap every parameter and buffer for a meta tensor of the same shape, and back afterwards.

    (torch.func.functional_call is not used: it fails to restore parameters of modules shared
    under two names, such as CoaT's convolutional position encodings.) A tensor shared by
    several modules gets one meta tensor, so ties hold.
    """
    metas: dict[int, torch.Tensor] = {}
    swapped: list[tuple[dict[str, Any], str, torch.Tensor]] = []
    try:
        for module in net.modules():
            tables: tuple[dict[str, Any], ...] = (module._parameters, module._buffers)  # meta Parameters go to the first
            for table in tables:
                for name, tensor in list(table.items()):
                    if tensor is None:
                        continue
                    if id(tensor) not in metas:
                        meta = torch.empty_like(tensor, device="meta")
                        metas[id(tensor)] = nn.Parameter(meta, tensor.requires_grad) if isinstance(tensor, nn.Parameter) else meta
                    swapped.append((table, name, tensor))
                    table[name] = metas[id(tensor)]
        yield
    finally:
        for table, name, tensor in reversed(swapped):
            table[name] = tensor


def _real_forward(net: nn.Module, input_size: tuple[int, int, int]) -> Any:
    device = next((p.device for p in net.parameters()), torch.device("cpu"))
    return net(torch.zeros(1, *input_size, device=device))


def _tensors(net: nn.Module) -> list[tuple[str, torch.Tensor]]:
    """Every parameter and buffer under every name it has (shared ones more than once)."""
    return list(net.named_parameters(remove_duplicate=False)) + list(net.named_buffers(remove_duplicate=False))

