"""Callable cuts for torchvision families whose forward is not a plain chain of children.

Each `cut(model) -> nn.Module` returns the network up to its last feature map (or, for ViT, its
class token), keeping torchvision's submodule names so state dicts and splitters stay readable.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

# torchvision's GoogLeNet/Inception3 `transform_input`: ImageNet-normalized RGB in, the
# (x - 0.5) / 0.5 normalization the ported Google weights were trained with out.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

GOOGLENET_PATH = (
    "conv1", "maxpool1", "conv2", "conv3", "maxpool2",
    "inception3a", "inception3b", "maxpool3",
    "inception4a", "inception4b", "inception4c", "inception4d", "inception4e", "maxpool4",
    "inception5a", "inception5b",
)  # fmt: skip
INCEPTION_V3_PATH = (
    "Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1", "Conv2d_4a_3x3", "maxpool2",
    "Mixed_5b", "Mixed_5c", "Mixed_5d",
    "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e",
    "Mixed_7a", "Mixed_7b", "Mixed_7c",
)  # fmt: skip


class TransformInput(nn.Module):
    """torchvision's `transform_input` as a layer: re-normalize ImageNet-normalized RGB to mean/std 0.5.

    Only the first three (RGB) channels are transformed; inputs with fewer than three channels
    (n_in=1 or 2) pass through unchanged, extra channels beyond RGB are left as they are.
    """

    SCALE = tuple(s / 0.5 for s in IMAGENET_STD)
    SHIFT = tuple((m - 0.5) / 0.5 for m in IMAGENET_MEAN)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] < 3:
            return x
        scale = torch.tensor(self.SCALE, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        shift = torch.tensor(self.SHIFT, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        rgb = x[:, :3] * scale + shift
        return torch.cat([rgb, x[:, 3:]], dim=1) if x.shape[1] > 3 else rgb


def _main_path(model: nn.Module, names: tuple[str, ...]) -> nn.Sequential:
    """The children `names` in forward order, preceded by `transform_input` when the model has it on."""
    layers: list[tuple[str, nn.Module]] = []
    if getattr(model, "transform_input", False):
        layers.append(("transform_input", TransformInput()))
    layers += [(name, model.get_submodule(name)) for name in names]
    return nn.Sequential(OrderedDict(layers))


def googlenet_body(model: nn.Module) -> nn.Sequential:
    """GoogLeNet up to `inception5b`: aux classifiers, pooling, dropout and `fc` dropped."""
    return _main_path(model, GOOGLENET_PATH)


def inception_v3_body(model: nn.Module) -> nn.Sequential:
    """Inception v3 up to `Mixed_7c`: `AuxLogits` (which branches off after Mixed_6e), pooling and `fc` dropped."""
    return _main_path(model, INCEPTION_V3_PATH)


def vit_body(model: nn.Module) -> nn.Module:
    """A VisionTransformer whose `heads` is replaced by Identity: it returns the class token (B, hidden_dim)."""
    model.heads = nn.Identity()
    return model


def maxvit_body(model: nn.Module) -> nn.Sequential:
    """MaxViT `stem` and `blocks` (a ModuleList, made a Sequential under the same name) without `classifier`."""
    return nn.Sequential(OrderedDict(stem=model.get_submodule("stem"), blocks=nn.Sequential(*model.get_submodule("blocks").children())))


class SwinBody(nn.Module):
    """Swin `features` and final `norm`, returned channels-first (B, C, H, W) like a CNN's feature map."""

    def __init__(self, features: nn.Module, norm: nn.Module) -> None:
        super().__init__()
        self.features = features
        self.norm = norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.features(x)).permute(0, 3, 1, 2)


def swin_body(model: nn.Module) -> SwinBody:
    """Swin (v1 and v2) without `avgpool`, `flatten` and `head`."""
    return SwinBody(model.get_submodule("features"), model.get_submodule("norm"))
