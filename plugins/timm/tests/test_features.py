"""What timm bodies tell heads: feature_info stages that resolve inside the body, layouts, probing."""

from __future__ import annotations

import pytest
import torch

from graftzoo import create_body
from graftzoo.errors import ConfigError
from graftzoo_timm.probe import MAP, POOLED, probe_model


def stage_outputs(body, size: int) -> list[torch.Tensor]:
    outputs: list[torch.Tensor] = []
    hooks = [body.net.get_submodule(s["module"]).register_forward_hook(lambda _m, _i, out: outputs.append(out))
             for s in body.feature_info]
    with torch.no_grad():
        body.eval()(torch.zeros(1, body.n_in, size, size))
    for hook in hooks:
        hook.remove()
    return outputs


def test_map_body_stages_resolve_and_match() -> None:
    body = create_body("timm/resnet18", n_in=1)
    assert [s["reduction"] for s in body.feature_info] == [2, 4, 8, 16, 32]
    for info, out in zip(body.feature_info, stage_outputs(body, 64)):
        assert out.shape[1] == info["num_chs"] and out.shape[-1] == 64 // info["reduction"]


def test_channels_last_body_is_permuted_and_says_so() -> None:
    body = create_body("timm/swin_tiny_patch4_window7_224")
    assert not body.pooled and body.num_features == 768
    assert all(s["layout"] == "NHWC" for s in body.feature_info)
    with torch.no_grad():
        assert body.eval()(torch.zeros(1, 3, 224, 224)).shape == (1, 768, 7, 7)


def test_token_body_is_pooled() -> None:
    body = create_body("timm/deit_tiny_distilled_patch16_224")
    assert body.pooled and body.num_features == 192
    assert body.feature_info == [{"module": "", "num_chs": 192, "reduction": 0}]
    assert not hasattr(body.net.model.head, "weight") and not hasattr(body.net.model.head_dist, "weight")


def test_probe_leaves_the_weights_alone() -> None:
    import timm

    model = timm.create_model("coat_lite_tiny")  # shares modules under two names
    before = dict(model.named_parameters(remove_duplicate=False))
    probe = probe_model(model, (3, 224, 224), 224)
    after = dict(model.named_parameters(remove_duplicate=False))
    assert probe.layout == POOLED and probe.unused == ("head",)
    assert all(before[name] is after[name] for name in before)


def test_tensors_used_without_calling_their_module_are_kept() -> None:
    import timm

    with torch.device("meta"):
        model = timm.create_model("beit_base_patch16_224")
    assert probe_model(model, (3, 224, 224), 224).unused == ("head",)  # attn.qkv.weight goes to F.linear


def test_head_side_layers_of_map_bodies_are_removed() -> None:
    import timm

    with torch.device("meta"):
        model = timm.create_model("mobilenetv3_small_050")
    probe = probe_model(model, (3, 224, 224), 64)
    assert probe.layout == MAP and set(probe.unused) == {"conv_head", "classifier"}


def test_unrunnable_n_in_is_explained() -> None:
    with pytest.raises(ConfigError, match="n_in=3"):
        create_body("timm/csatv2", n_in=1)
