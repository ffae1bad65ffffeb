"""Adapting a timm model to `n_in` input channels with graftzoo's (fastai's) first-layer semantics.

timm names the convolution(s) that read the image in `pretrained_cfg["first_conv"]`: several for
multi-branch stems (RepVGG's 3x3 and 1x1), a wrapper or a nested conv for others. Each is adapted
with `graftzoo.first_layer.adapt_first_conv`; without that name, the first Conv2d of the model is.
"""

from __future__ import annotations

from torch import nn

from graftzoo.first_layer import adapt_first_conv


def adapt_input_convs(model: nn.Module, n_in: int, pretrained: bool) -> None:
    """Make `model` take `n_in` channels: every image-reading conv timm names, else the first Conv2d."""
    names = first_conv_names(model)
    if not names:
        adapt_first_conv(model, n_in, pretrained=pretrained)
        return
    for name in names:
        module = model.get_submodule(name)
        if isinstance(module, nn.Conv2d):
            _adapt_conv(model, name, n_in, pretrained)
        else:
            adapt_first_conv(module, n_in, pretrained=pretrained)


def first_conv_names(model: nn.Module) -> list[str]:
    """The image-reading modules timm's pretrained config names, if they all exist in `model`."""
    cfg = getattr(model, "pretrained_cfg", None) or {}
    names = cfg.get("first_conv") if isinstance(cfg, dict) else getattr(cfg, "first_conv", None)
    names = [names] if isinstance(names, str) else list(names or [])
    try:
        for name in names:
            model.get_submodule(name)
    except AttributeError:
        return []
    return names


def _adapt_conv(model: nn.Module, name: str, n_in: int, pretrained: bool) -> None:
    """Adapt the Conv2d `name` itself, whatever comes before it in its parent."""
    parent_name, _, attr = name.rpartition(".")
    parent = model.get_submodule(parent_name)
    holder = nn.Module()
    holder.add_module(attr, getattr(parent, attr))
    adapt_first_conv(holder, n_in, pretrained=pretrained)
    setattr(parent, attr, getattr(holder, attr))
