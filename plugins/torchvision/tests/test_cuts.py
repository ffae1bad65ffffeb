"""The callable cuts compute exactly what the full torchvision model computes up to the same point."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn
from torchvision import models

from graftzoo.cutting import cut_model
from graftzoo_torchvision import cuts


def _captured(model: nn.Module, module: nn.Module, x: torch.Tensor, *, inputs: bool = False) -> torch.Tensor:
    """What `module` receives (`inputs`) or returns while the full `model` runs on `x`."""
    seen: list[torch.Tensor] = []
    if inputs:
        hook = module.register_forward_pre_hook(lambda _m, args: seen.append(args[0]))
    else:
        hook = module.register_forward_hook(lambda _m, _i, out: seen.append(out))
    try:
        with torch.no_grad():
            model(x)
    finally:
        hook.remove()
    return seen[0]


def _body_output(cut: Callable[[nn.Module], nn.Module] | int, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return cut_model(model, cut).eval()(x)


@pytest.mark.parametrize(
    ("factory", "last", "cut", "size"),
    [
        (models.googlenet, "inception5b", cuts.googlenet_body, 64),
        pytest.param(models.inception_v3, "Mixed_7c", cuts.inception_v3_body, 96, marks=pytest.mark.slow),
    ],
)
def test_inception_cuts_keep_the_main_path_and_transform_input(
    factory: Callable[..., nn.Module], last: str, cut: Callable[[nn.Module], nn.Module], size: int
) -> None:
    torch.manual_seed(0)
    # float64: random-init activations grow large through 20 blocks, where float32 rounding shows
    model = factory(aux_logits=True, transform_input=True, init_weights=True).eval().double()
    x = torch.randn(2, 3, size, size, dtype=torch.float64)
    expected = _captured(model, model.get_submodule(last), x)
    body = cut(model)
    assert "transform_input" in dict(body.named_children())
    assert not any(name.startswith(("aux", "AuxLogits", "fc")) for name, _ in body.named_children())
    torch.testing.assert_close(_body_output(cut, model, x), expected)


def test_transform_input_matches_torchvision() -> None:
    model = models.googlenet(aux_logits=False, transform_input=True, init_weights=False)
    x = torch.randn(2, 3, 8, 8)
    torch.testing.assert_close(cuts.TransformInput()(x), model._transform_input(x))


def test_transform_input_with_other_channel_counts() -> None:
    layer = cuts.TransformInput()
    gray = torch.randn(2, 1, 4, 4)
    assert torch.equal(layer(gray), gray)
    rgbx = torch.randn(2, 4, 4, 4)
    out = layer(rgbx)
    torch.testing.assert_close(out[:, :3], layer(rgbx[:, :3]))
    assert torch.equal(out[:, 3:], rgbx[:, 3:])


def test_no_transform_when_the_model_has_it_off() -> None:
    model = models.googlenet(aux_logits=False, transform_input=False, init_weights=False)
    assert "transform_input" not in dict(cuts.googlenet_body(model).named_children())


@pytest.mark.slow
def test_vit_body_returns_the_class_token() -> None:
    model = models.vit_b_32().eval()
    x = torch.randn(1, 3, 224, 224)
    expected = _captured(model, model.heads, x, inputs=True)
    out = _body_output(cuts.vit_body, model, x)
    assert out.shape == (1, 768)
    torch.testing.assert_close(out, expected)


@pytest.mark.slow
def test_swin_body_returns_the_normed_channels_first_map() -> None:
    model = models.swin_t().eval()
    x = torch.randn(1, 3, 64, 64)
    expected = _captured(model, model.permute, x)
    torch.testing.assert_close(_body_output(cuts.swin_body, model, x), expected)


@pytest.mark.slow
def test_maxvit_body_runs_the_blocks_in_order() -> None:
    model = models.maxvit_t().eval()
    x = torch.randn(1, 3, 224, 224)
    expected = _captured(model, model.classifier, x, inputs=True)
    out = _body_output(cuts.maxvit_body, model, x)
    assert set(model.state_dict()) >= set(cut_model(model, cuts.maxvit_body).state_dict())
    torch.testing.assert_close(out, expected)


def test_manifest_cuts_are_registered_names_that_import() -> None:
    """Callable cuts are registered under [[cuts]] and archs refer to them by name, never by module path."""
    from graftzoo.registry import current
    from graftzoo.testing import manifest_problems

    assert manifest_problems("torchvision", import_factories=True) == []
    assert current().get_arch("torchvision/swin_t").cut == "torchvision/swin_body"
