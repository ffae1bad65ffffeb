"""The Body: a pretrained network cut before its classifier, with what a head needs to know."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from graftzoo.errors import ConfigError
from graftzoo.inputs import InputSpec
from graftzoo.spec import ArchSpec, Stats

BodySplit = Callable[[nn.Module], Sequence[Sequence[nn.Module | nn.Parameter]]]  # groups of modules or parameters


class Body(nn.Module):
    """A cut network plus its metadata.

    `forward(*inputs)` runs the cut network on the model's input tensors: for images one
    (B, C, H, W) batch giving a feature map (B, C, H, W), or pooled features (B, C) when `pooled`.
    `num_features` is C; `feature_info` lists each resolution stage as a dict with `module`
    (name of the last submodule at that resolution), `num_chs` and `reduction`. Bodies of other
    input kinds declare `num_features` (the image shape probe runs only for image inputs).
    `keep_bn_statistics` (set by adapters that leave BatchNorm as the source has it) keeps the
    BatchNorm layers in eval mode when the body trains, so their running statistics never change.
    """

    keep_bn_statistics: bool = False

    def __init__(
        self,
        net: nn.Module,
        *,
        spec: ArchSpec,
        weights: str | None = None,
        n_in: int | None = None,
        cut: Any = None,
        inputs: InputSpec | None = None,
        split: BodySplit | None = None,
        num_features: int | None = None,
        feature_info: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__()
        self.net = net
        self.spec = spec
        self.weights = weights
        if inputs is None:
            inputs = InputSpec.image(spec.n_in if n_in is None else n_in)
        elif n_in is not None and inputs.n_in != n_in:
            raise ConfigError(f"n_in={n_in} contradicts inputs {inputs.to_json()}")
        self.inputs = inputs
        self.settings: dict[str, Any] = {}  # the body_kwargs it was built with (set by create_body)
        self.cut = cut
        self.pooled = spec.pooled
        self._split = split
        self._num_features = num_features
        self._feature_info = feature_info

    def train(self, mode: bool = True) -> Body:
        """`nn.Module.train`; with `keep_bn_statistics` the BatchNorm layers stay in eval mode."""
        super().train(mode)
        if mode and self.keep_bn_statistics:
            for module in self.net.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self

    @property
    def arch(self) -> str:
        return self.spec.name

    @property
    def stats(self) -> Stats | None:
        """Normalization (mean, std) the pretrained weights expect."""
        return self.spec.stats

    @property
    def n_in(self) -> int:
        """Image channels the body takes (image inputs only)."""
        if self.inputs.n_in is None:
            raise ConfigError(f"{self.arch} takes {self.inputs.kind!r} inputs, which have no image channels (n_in)")
        return self.inputs.n_in

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.net(*inputs)
        return out

    @property
    def num_features(self) -> int:
        if self._num_features is None:
            self._probe()
        return self._num_features  # type: ignore[return-value]

    @property
    def feature_info(self) -> list[dict[str, Any]]:
        if self._feature_info is None:
            self._probe()
        return self._feature_info  # type: ignore[return-value]

    def param_groups(self) -> list[list[nn.Parameter]]:
        """The body's parameter groups, earliest layers first (the head's groups come after)."""
        if self._split is None:
            return [[p for p in self.parameters()]]
        groups = [[p for m in group for p in _params(m)] for group in self._split(self.net)]
        from graftzoo.adapters.groups import place_adapter_params

        return place_adapter_params(self.net, groups)  # LoRA tensors join their layer's group

    def _probe(self) -> None:
        """Learn the output size and the stages by a dummy forward with hooks on the children (images only)."""
        if self.inputs.n_in is None or not self.spec.probe_size:
            raise ConfigError(
                f"{self.arch} takes {self.inputs.kind!r} inputs and declares no num_features: its plugin must pass "
                "num_features (and feature_info, if heads need stages) to Body"
            )
        size = self.spec.probe_size
        x = torch.zeros(1, self.n_in, size, size, device=_device(self))
        shapes: dict[str, torch.Size] = {}
        hooks = [
            child.register_forward_hook(lambda _m, _i, out, name=name: shapes.__setitem__(name, _shape(out)))
            for name, child in stage_children(self.net)
        ] if isinstance(self.net, nn.Sequential) else []
        was_training = self.training
        try:
            self.eval()
            with torch.no_grad():
                out = self.net(x)
        finally:
            self.train(was_training)
            for hook in hooks:
                hook.remove()
        self._num_features = int(out.shape[1])
        if self._feature_info is None:
            self._feature_info = _stages(shapes, size) if shapes else [
                {"module": "", "num_chs": int(out.shape[1]), "reduction": size // out.shape[-1] if out.dim() == 4 else 0}
            ]


def stage_children(net: nn.Module) -> list[tuple[str, nn.Module]]:
    """The children a sequential body runs in order, looking through a lone Sequential child
    (torchvision's `features` of densenet, vgg, efficientnet, ...): dotted names, forward order."""
    children = list(net.named_children())
    if len(children) == 1 and isinstance(children[0][1], nn.Sequential):
        name, child = children[0]
        return [(f"{name}.{sub}", module) for sub, module in stage_children(child)]
    return children


def _params(module: nn.Module | nn.Parameter) -> list[nn.Parameter]:
    return [module] if isinstance(module, nn.Parameter) else list(module.parameters())


def _device(module: nn.Module) -> torch.device:
    return next((p.device for p in module.parameters()), torch.device("cpu"))


def _shape(out: Any) -> torch.Size:
    return out.shape if isinstance(out, torch.Tensor) else torch.Size()


def _stages(shapes: dict[str, torch.Size], size: int) -> list[dict[str, Any]]:
    """The last child at each spatial resolution (where U-Net skip connections are taken)."""
    stages: list[dict[str, Any]] = []
    for name, shape in shapes.items():
        if len(shape) != 4:
            continue
        info = {"module": name, "num_chs": int(shape[1]), "reduction": size // int(shape[-1])}
        if stages and stages[-1]["reduction"] == info["reduction"]:
            stages[-1] = info
        else:
            stages.append(info)
    return stages
