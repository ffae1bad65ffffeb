"""Class activation maps: which parts of an image made the model predict a class.

`class_activation_map` is CAM (the feature map weighted by the final linear layer, exact when the
head is pooling + one linear); `grad_cam` is Grad-CAM (weights from the gradients, any CNN body).
Both leave the model exactly as they found it: no hooks left, same train/eval mode of every module,
same `requires_grad`, and parameter `.grad`s untouched (gradients come from `torch.autograd.grad`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from graftzoo.errors import ConfigError
from graftzoo_vision.classify import ClassifyHead
from graftzoo_vision.layers import AdaptiveConcatPool2d
from graftzoo.data_protocol import dls_attr

__all__ = ["Hook", "HookBwd", "class_activation_map", "grad_cam", "linear_cam_weights", "plot_cam"]


class Hook:
    """Forward hook keeping the module's last output in `stored` (detached unless `detach=False`).

    A context manager: `with Hook(model.body) as h: model(x)` removes the hook on exit.
    """

    def __init__(
        self, module: nn.Module, fn: Callable[[nn.Module, Any, Any], Any] | None = None, detach: bool = True
    ) -> None:
        self.stored: Any = None
        self.fn, self.detach = fn, detach
        self.handle = module.register_forward_hook(self._hook)

    def _hook(self, module: nn.Module, inputs: Any, output: Any) -> None:
        if self.fn is not None:
            output = self.fn(module, inputs, output)
        self.stored = output.detach() if self.detach and isinstance(output, Tensor) else output

    def remove(self) -> None:
        self.handle.remove()

    def __enter__(self) -> Hook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


class HookBwd:
    """Full backward hook keeping the gradient of the module's (first) output in `stored`; a context manager."""

    def __init__(self, module: nn.Module) -> None:
        self.stored: Tensor | None = None
        self.handle = module.register_full_backward_hook(self._hook)

    def _hook(self, module: nn.Module, grad_input: Any, grad_output: Sequence[Tensor | None]) -> None:
        grad = grad_output[0]
        self.stored = None if grad is None else grad.detach().clone()

    def remove(self) -> None:
        self.handle.remove()

    def __enter__(self) -> HookBwd:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put every module in eval mode, then restore each one's own `training` flag (mixed modes too)."""
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for module, flag in flags:
            module.training = flag


# ---- inputs and targets ---------------------------------------------------------------------------
def _model_and_input(learn_or_model: Any, image: Any) -> tuple[nn.Module, Tensor]:
    """The model, and `image` as a (1, C, H, W) input on the model's device.

    A float tensor is taken as preprocessed; anything else goes through `learn.dls.encode_item`.
    """
    model = learn_or_model if isinstance(learn_or_model, nn.Module) else getattr(learn_or_model, "model", None)
    if not isinstance(model, nn.Module):
        raise ConfigError(f"expected a model or a Learner (with .model), got {type(learn_or_model).__name__}.")
    if isinstance(image, Tensor) and image.is_floating_point():
        x = image
    else:
        encode = dls_attr(getattr(learn_or_model, "dls", None), "encode_item")
        if encode is None:
            raise ConfigError(
                "pass the image as a preprocessed float (C, H, W) tensor, or pass a Learner whose dls has "
                "encode_item() to turn files, PIL images or uint8 tensors into model inputs."
            )
        x = encode(image)[0]
    if x.dim() == 3:
        x = x[None]
    if x.dim() != 4 or x.shape[0] != 1:
        raise ConfigError(f"expected one image (C, H, W) or (1, C, H, W), got shape {tuple(x.shape)}.")
    device = next((p.device for p in model.parameters()), x.device)
    return model, x.detach().to(device)


def _vocab(learn_or_model: Any) -> Sequence[str] | None:
    return dls_attr(getattr(learn_or_model, "dls", None), "vocab")


def _class_scores(out: Tensor) -> Tensor:
    """One score per class for the single item of `out` (spatial outputs are summed)."""
    return out[0] if out.dim() == 2 else out[0].flatten(1).sum(1)


def _target_index(scores: Tensor, target: int | str | None, vocab: Sequence[str] | None) -> int:
    """`target` as a class index: None is the predicted class, a str is looked up in `vocab`."""
    if target is None:
        return int(scores.argmax())
    if isinstance(target, str):
        if vocab is None or target not in list(vocab):
            raise ConfigError(f"class {target!r} is not in the vocab {list(vocab) if vocab else None}.")
        return list(vocab).index(target)
    if not 0 <= int(target) < scores.numel():
        raise ConfigError(f"target {target} is out of range for {scores.numel()} classes.")
    return int(target)


def _normalize(cam: Tensor) -> Tensor:
    """Min-max scale to [0, 1] (all zeros when the map is flat)."""
    lo, hi = cam.min(), cam.max()
    return (cam - lo) / (hi - lo) if hi > lo else torch.zeros_like(cam)


def _layer(model: nn.Module, layer: nn.Module | str | None) -> nn.Module:
    """The module whose output is the feature map: `layer` (a module or a dotted name) or the model's body."""
    if isinstance(layer, nn.Module):
        return layer
    if isinstance(layer, str):
        return model.get_submodule(layer)
    body = getattr(model, "body", None)
    if not isinstance(body, nn.Module):
        raise ConfigError("this model has no .body: pass layer= (the module, or its dotted name) to hook.")
    if getattr(body, "pooled", False):
        raise ConfigError(
            f"the body {getattr(body, 'arch', '')!r} returns pooled (B, C) features, not a feature map: "
            "pass layer= (an earlier conv layer, e.g. 'body.net.<name>') for Grad-CAM."
        )
    return body


def _feature_map(act: Any, where: str) -> Tensor:
    if not isinstance(act, Tensor) or act.dim() != 4:
        shape = tuple(act.shape) if isinstance(act, Tensor) else type(act).__name__
        raise ConfigError(f"{where} must output a (B, C, H, W) feature map, got {shape}; pass another layer=.")
    return act


# ---- CAM ------------------------------------------------------------------------------------------
def _head_sequence(head: nn.Module) -> list[nn.Module] | None:
    """The head's layers in order, when it is a plain chain of modules (else None)."""
    if isinstance(head, ClassifyHead):
        head = head.layers
    if not isinstance(head, nn.Sequential):
        return None
    out: list[nn.Module] = []
    for child in head:
        out.extend((_head_sequence(child) or []) if isinstance(child, nn.Sequential) else [child])
    return out


def _bn_affine(bn: nn.BatchNorm1d) -> tuple[Tensor, Tensor] | None:
    """Eval-mode BatchNorm1d as y = a * x + c, or None when it uses batch statistics."""
    if bn.running_mean is None or bn.running_var is None:
        return None
    a = (bn.running_var + bn.eps).rsqrt()
    c = -bn.running_mean * a
    if bn.weight is not None:
        a, c = a * bn.weight, c * bn.weight + bn.bias
    return a, c


@torch.no_grad()
def linear_cam_weights(model: nn.Module) -> tuple[Tensor, Tensor] | None:
    """Per-class channel weights (n_out, C) and biases (n_out) for CAM, or None when CAM does not apply.

    CAM applies when the head is average (or concat) pooling, flatten, then BatchNorm1d/Dropout and ONE
    Linear (eval-mode BatchNorms are folded into it). With average pooling it is exact: the mean of the
    raw map plus the bias is the logit. With concat pooling the max half's weights are added to the
    average half's, which is what Grad-CAM's spatially averaged gradients give. Multi-linear heads: None.
    """
    body, head = getattr(model, "body", None), getattr(model, "head", None)
    if body is None or head is None or getattr(body, "pooled", False):
        return None
    layers = _head_sequence(head)
    if not layers:
        return None
    pool = layers[0]
    if not isinstance(pool, (nn.AdaptiveAvgPool2d, AdaptiveConcatPool2d)):
        return None
    if getattr(pool, "output_size", getattr(pool, "size", None)) not in (1, (1, 1)):
        return None
    scale: Tensor | float = 1.0
    shift: Tensor | float = 0.0
    weight: Tensor | None = None
    bias: Tensor | float = 0.0
    for layer in layers[1:]:
        if isinstance(layer, (nn.Flatten, nn.Dropout, nn.Identity)):
            continue
        if isinstance(layer, nn.BatchNorm1d):
            affine = _bn_affine(layer)
            if affine is None:
                return None
            a, c = affine
            if weight is None:
                scale, shift = scale * a, shift * a + c
            else:
                weight, bias = weight * a[:, None], bias * a + c
        elif isinstance(layer, nn.Linear) and weight is None:
            weight = layer.weight * scale
            bias = layer.weight @ (shift * torch.ones(layer.in_features, device=layer.weight.device))
            bias = bias + (layer.bias if layer.bias is not None else 0.0)
        else:
            return None
    if weight is None:
        return None
    if isinstance(pool, AdaptiveConcatPool2d):
        half = weight.shape[1] // 2
        weight = weight[:, :half] + weight[:, half:]
    return weight.detach().clone(), torch.as_tensor(bias).detach().clone()


def class_activation_map(
    learn_or_model: Any, x: Any, target: int | str | None = None, normalize: bool = True
) -> Tensor:
    """CAM (h, w) of class `target` (default: the predicted class) at the body's final resolution.

    The body's feature map (C, h, w), caught by a forward hook, weighted by the final linear layer's
    weights for the class (see `linear_cam_weights`). Heads with several linear layers fall back to
    `grad_cam`. `normalize` scales to [0, 1]; without it the CAM is the raw per-location class score.
    """
    model, inp = _model_and_input(learn_or_model, x)
    weights = linear_cam_weights(model)
    if weights is None:
        return grad_cam(model, inp, target, normalize=normalize, vocab=_vocab(learn_or_model))
    body = _layer(model, None)
    with eval_mode(model), torch.no_grad(), Hook(body) as hook:
        out = model(inp)
    feats = _feature_map(hook.stored, "the body")[0]
    cls = _target_index(_class_scores(out), target, _vocab(learn_or_model))
    cam = torch.einsum("k,khw->hw", weights[0][cls].float().to(feats.device), feats.float())
    return (_normalize(cam) if normalize else cam).cpu()


# ---- Grad-CAM -------------------------------------------------------------------------------------
def grad_cam(
    learn_or_model: Any,
    image: Any,
    target: int | str | None = None,
    layer: nn.Module | str | None = None,
    normalize: bool = True,
    vocab: Sequence[str] | None = None,
) -> Tensor:
    """Grad-CAM (h, w) of class `target` (default: the predicted class) on the output of `layer`.

    `layer` defaults to the body (its final feature map). Channel weights are the class score's gradients
    averaged over space; the map is relu(sum(weights * activations)), scaled to [0, 1] by `normalize`.
    `image` is a preprocessed float (C, H, W) tensor, or an item `learn.dls.encode_item` understands.
    """
    model, x = _model_and_input(learn_or_model, image)
    module = _layer(model, layer)
    with eval_mode(model), torch.enable_grad(), Hook(module, detach=False) as hook:
        out = model(x.requires_grad_(True))
        act = _feature_map(hook.stored, f"layer {type(module).__name__}")
        scores = _class_scores(out)
        cls = _target_index(scores, target, vocab if vocab is not None else _vocab(learn_or_model))
        (grad,) = torch.autograd.grad(scores[cls], act, allow_unused=True)
    act = act.detach()[0].float()
    grad = torch.zeros_like(act) if grad is None else grad.detach()[0].float()
    cam = torch.relu(torch.einsum("k,khw->hw", grad.mean(dim=(1, 2)), act))
    return (_normalize(cam) if normalize else cam).cpu()


# ---- plotting -------------------------------------------------------------------------------------
def _display_image(image: Tensor) -> Tensor:
    """(C, H, W) or (H, W) -> float (H, W, C) in [0, 1]: uint8 divided by 255, other ranges min-max scaled."""
    img = image.detach().cpu()
    if img.dim() == 4:
        img = img[0]
    if img.dim() == 2:
        img = img[None]
    img = img.float() / 255.0 if not img.is_floating_point() else img.float()
    if img.min() < 0 or img.max() > 1:
        img = _normalize(img)
    return img.permute(1, 2, 0)


def plot_cam(
    image: Tensor, heatmap: Tensor, path: str | Path | None = None, alpha: float = 0.6, scale: int | None = None
) -> Path:
    """Save `image` (C, H, W) with `heatmap` (h, w) upsampled bilinearly over it ('magma') as a PNG.

    Show images in [0, 1] (e.g. `dls.denormalize(x)`); other float ranges are min-max scaled. The PNG is
    (H * scale, W * scale) pixels; `scale` defaults to the smallest integer making its long side >= 256.
    """
    from graftzoo.learner.plotting import new_figure, save_figure

    img = _display_image(image)
    h, w = img.shape[:2]
    heat = heatmap.detach().cpu().float()
    heat = F.interpolate(heat[None, None], size=(h, w), mode="bilinear", align_corners=False)[0, 0]
    scale = scale or max(1, math.ceil(256 / max(h, w)))
    fig = new_figure((w, h), dpi=scale)  # one inch per image pixel: exactly (h*scale, w*scale) pixels
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    if img.shape[-1] == 1:
        ax.imshow(img[..., 0].numpy(), cmap="gray", vmin=0.0, vmax=1.0)
    else:
        ax.imshow(img[..., :3].numpy())
    ax.imshow(heat.numpy(), cmap="magma", alpha=alpha, extent=(-0.5, w - 0.5, h - 0.5, -0.5), interpolation="nearest")
    ax.axis("off")
    return save_figure(fig, path, "cam.png", tight=False)
