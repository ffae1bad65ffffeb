"""Tests for hooks, CAM, Grad-CAM and the CAM overlay plot."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from torch import nn

import graftzoo
from graftzoo.errors import ConfigError
from graftzoo_vision.cam import Hook, HookBwd, class_activation_map, grad_cam, linear_cam_weights, plot_cam


def _xresnet(**head_kwargs: object) -> nn.Module:
    torch.manual_seed(0)
    return graftzoo.graft("vision/xresnet18", "classify", n_out=3, **head_kwargs)


def _randomize_bn(model: nn.Module) -> None:
    """Non-trivial running stats and affine params, so eval-mode BatchNorm is not the identity."""
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=gen))
                m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
                m.weight.copy_(torch.randn(m.num_features, generator=gen))
                m.bias.copy_(torch.randn(m.num_features, generator=gen))


def _no_hooks(model: nn.Module) -> bool:
    return all(
        not m._forward_hooks and not m._forward_pre_hooks and not m._backward_hooks and not m._backward_pre_hooks
        for m in model.modules()
    )


class BrightnessNet(nn.Module):
    """Body: 4x4 patches' mean brightness (an 8x8 map for 32x32 images); head: avg pool + linear.

    Class 0 likes brightness, class 1 dislikes it, so only bright regions matter for class 0.
    """

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 4, kernel_size=4, stride=4, bias=False), nn.ReLU())
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
        with torch.no_grad():
            self.body[0].weight.fill_(1.0 / 48)
            self.head[2].weight.copy_(torch.tensor([[1.0, 1.0, 1.0, 1.0], [-1.0, -1.0, -1.0, -1.0]]))
            self.head[2].bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def _patch_image() -> torch.Tensor:
    img = torch.full((3, 32, 32), 0.1)
    img[:, 0:8, 0:8] = 1.0  # bright top-left corner: cells (0..1, 0..1) of the 8x8 map
    return img


# ---- hooks ----------------------------------------------------------------------------------------
def test_hook_stores_output_and_removes_itself() -> None:
    lin = nn.Linear(3, 2)
    x = torch.randn(4, 3)
    with Hook(lin) as hook:
        out = lin(x)
        assert lin._forward_hooks
    assert torch.equal(hook.stored, out.detach()) and not hook.stored.requires_grad
    assert not lin._forward_hooks


def test_hook_bwd_stores_output_gradient_and_removes_itself() -> None:
    lin = nn.Linear(3, 2)
    x = torch.randn(4, 3, requires_grad=True)
    with HookBwd(lin) as hook:
        (lin(x) * torch.tensor([2.0, -1.0])).sum().backward()
    assert torch.equal(hook.stored, torch.tensor([[2.0, -1.0]]).expand(4, 2))
    assert not lin._backward_hooks and _no_hooks(lin)


# ---- Grad-CAM -------------------------------------------------------------------------------------
def test_grad_cam_finds_the_region_that_matters() -> None:
    model = BrightnessNet()
    heat = grad_cam(model, _patch_image(), target=0)
    assert heat.shape == (8, 8)
    assert heat.min() >= 0 and math.isclose(float(heat.max()), 1.0)
    row, col = divmod(int(heat.argmax()), 8)
    assert row < 2 and col < 2
    assert heat[:2, :2].min() > heat[2:, :].max()
    # class 1 is hurt by brightness: no positive evidence anywhere
    assert torch.equal(grad_cam(model, _patch_image(), target=1), torch.zeros(8, 8))


def test_grad_cam_default_target_is_the_prediction_and_layer_can_be_named() -> None:
    model = BrightnessNet()
    img = _patch_image()
    assert model(img[None]).argmax() == 0
    assert torch.allclose(grad_cam(model, img), grad_cam(model, img, target=0))
    assert torch.allclose(grad_cam(model, img, layer="body.1"), grad_cam(model, img, layer=model.body))


def test_grad_cam_and_cam_have_the_body_resolution() -> None:
    model = _xresnet()
    x = torch.randn(3, 96, 96)
    h, w = model.body(x[None]).shape[-2:]
    assert (h, w) == (3, 3)
    for heat in (grad_cam(model, x), class_activation_map(model, x), grad_cam(model, x, target=2)):
        assert heat.shape == (h, w)
        assert heat.min() >= 0 and heat.max() <= 1


def test_model_left_exactly_as_it_was() -> None:
    model = _xresnet()
    model.train()
    model.body.net.stem_0.eval()  # mixed modes must survive too
    for p in model.body.parameters():
        p.requires_grad_(False)  # a frozen body: Grad-CAM must still work
    head_param = next(model.head.parameters())
    head_param.grad = torch.full_like(head_param, 0.5)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    modes = {name: m.training for name, m in model.named_modules()}
    flags = {name: p.requires_grad for name, p in model.named_parameters()}
    grads = {name: None if p.grad is None else p.grad.clone() for name, p in model.named_parameters()}

    x = torch.randn(3, 64, 64)
    grad_cam(model, x)
    class_activation_map(model, x, target=1)
    grad_cam(model, x, layer="body.net.stage_2")

    assert _no_hooks(model)
    assert {name: m.training for name, m in model.named_modules()} == modes
    assert {name: p.requires_grad for name, p in model.named_parameters()} == flags
    for k, v in model.state_dict().items():  # parameters and BatchNorm running stats
        assert torch.equal(v, state[k]), k
    for name, p in model.named_parameters():
        before = grads[name]
        assert (p.grad is None) if before is None else torch.equal(p.grad, before), name


# ---- CAM ------------------------------------------------------------------------------------------
def test_cam_is_exact_for_avg_pool_and_one_linear() -> None:
    model = _xresnet(lin_ftrs=[], concat_pool=False)
    _randomize_bn(model)
    weights = linear_cam_weights(model)
    assert weights is not None
    _, bias = weights
    x = torch.randn(3, 64, 64)
    model.eval()
    with torch.no_grad():
        logits = model(x[None])[0]
    for c in range(3):
        raw = class_activation_map(model, x, target=c, normalize=False)
        assert raw.shape == (2, 2)
        assert torch.allclose(raw.mean() + bias[c], logits[c], atol=1e-4)


def test_cam_with_concat_pool_matches_grad_cam() -> None:
    model = _xresnet(lin_ftrs=[])
    _randomize_bn(model)
    assert linear_cam_weights(model) is not None
    x = torch.randn(3, 96, 96)
    raw = class_activation_map(model, x, target=1, normalize=False)
    grad_raw = grad_cam(model, x, target=1, normalize=False)
    assert torch.allclose(torch.relu(raw) / raw.numel(), grad_raw, atol=1e-5)


def test_cam_falls_back_to_grad_cam_for_multi_linear_heads() -> None:
    model = _xresnet()  # default head: two linear layers
    assert linear_cam_weights(model) is None
    x = torch.randn(3, 64, 64)
    assert torch.allclose(class_activation_map(model, x, target=0), grad_cam(model, x, target=0))


def test_cam_weights_of_a_plain_sequential_head() -> None:
    model = BrightnessNet()
    weight, bias = linear_cam_weights(model)
    assert torch.equal(weight, model.head[2].weight) and torch.equal(bias, model.head[2].bias)
    heat = class_activation_map(model, _patch_image())
    assert heat.shape == (8, 8) and int(heat.argmax()) in (0, 1, 8, 9)


# ---- inputs, targets and errors -------------------------------------------------------------------
def test_items_go_through_the_learners_encode_item_and_targets_can_be_names() -> None:
    from graftzoo.learner import Learner
    from graftzoo_vision.data import ImageDataLoaders

    images = torch.randint(0, 256, (8, 3, 64, 64), dtype=torch.uint8)
    dls = ImageDataLoaders.from_tensors(images, [0, 1, 2, 0, 1, 2, 0, 1], vocab=["a", "b", "c"], seed=0,
                                        bs=4, device="cpu")
    learn = Learner(dls, _xresnet(), quiet=True, device="cpu")
    by_item = grad_cam(learn, images[0], target="b")
    by_tensor = grad_cam(learn.model, dls.encode_item(images[0])[0][0], target=1)
    assert by_item.shape == (2, 2) and by_item.max() == 1 and torch.allclose(by_item, by_tensor)
    assert class_activation_map(learn, images[0], target="c").shape == (2, 2)
    with pytest.raises(ConfigError, match="not in the vocab"):
        grad_cam(learn, images[0], target="zebra")


def test_errors_say_what_to_do() -> None:
    model = BrightnessNet()
    with pytest.raises(ConfigError, match="encode_item"):
        grad_cam(model, torch.zeros(3, 32, 32, dtype=torch.uint8))
    with pytest.raises(ConfigError, match="out of range"):
        grad_cam(model, _patch_image(), target=5)
    with pytest.raises(ConfigError, match="layer="):
        grad_cam(nn.Sequential(model.body, model.head), _patch_image())
    with pytest.raises(ConfigError, match="feature map"):
        grad_cam(model, _patch_image(), layer="head.1")
    assert _no_hooks(model)


# ---- plot -----------------------------------------------------------------------------------------
def test_plot_cam_writes_a_png_of_the_expected_size(tmp_path: Path) -> None:
    from PIL import Image

    img, heat = torch.rand(3, 40, 30), torch.rand(5, 4)
    out = plot_cam(img, heat, tmp_path / "cam.png")
    assert out == tmp_path / "cam.png"
    with Image.open(out) as png:
        assert png.format == "PNG" and png.size == (30 * 7, 40 * 7)  # ceil(256 / 40) = 7
    out = plot_cam(torch.randn(1, 40, 30), heat, tmp_path / "sub" / "gray.png", alpha=0.3, scale=2)
    with Image.open(out) as png:
        assert png.size == (60, 80)
