"""Bodies of a sample of timm archs across families: features, n_in, a grafted classify head, splits."""

from __future__ import annotations

import pytest
import torch

import graftzoo
from graftzoo import create_body, graft

# small members of many families: feature-map CNNs, channels-last maps, token models, odd outputs
SAMPLE = [
    "resnet18", "resnext26ts", "seresnext26d_32x4d", "efficientnet_b0", "tf_efficientnet_lite0", "tinynet_e",
    "mobilenetv3_small_050", "mobilenetv2_050", "lcnet_050", "mobilenetv4_conv_small", "mnasnet_small",
    "ghostnet_050", "convnext_atto", "regnetx_002", "regnety_002", "densenet121", "dla46_c", "rexnet_100",
    "hrnet_w18_small", "cs3darknet_focus_s", "dpn48b", "repvgg_a0", "mobileone_s0", "gernet_s", "hardcorenas_a",
    "nf_regnet_b0", "ese_vovnet19b_slim_dw", "hgnetv2_b0", "edgenext_xx_small", "fastvit_t8", "efficientvit_b0",
    "mobilevit_xxs", "maxvit_pico_rw_256", "poolformer_s12", "mambaout_femto", "starnet_s050",
    "vit_tiny_patch16_224", "deit_tiny_distilled_patch16_224", "swin_tiny_patch4_window7_224", "levit_128s",
    "mixer_s32_224", "xcit_nano_12_p16_224", "pit_ti_224", "cait_xxs24_224", "crossvit_tiny_240",
    "coat_lite_tiny", "efficientformer_l1", "eva02_tiny_patch14_224", "convmixer_768_32",
]


def reference_num_features(name: str, pooled: bool) -> int:
    """What timm itself says: `num_features` of the map, or `head_hidden_size` of pre-logits features."""
    import timm

    with torch.device("meta"):
        model = timm.create_model(name)
    return int(getattr(model, "head_hidden_size", model.num_features) if pooled else model.num_features)


def check_arch(name: str) -> None:
    spec = graftzoo.get_arch(f"timm/{name}")
    size = spec.probe_size
    for n_in in (1, 4):
        body = create_body(spec, n_in=n_in).eval()
        with torch.no_grad():
            out = body(torch.randn(2, n_in, size, size))
        assert out.shape[:2] == (2, body.num_features)
        assert out.dim() == (2 if body.pooled else 4)
    assert body.num_features == reference_num_features(name, body.pooled) == spec.num_features
    assert body.pooled == spec.pooled

    model = graft(spec, "classify", n_out=5)
    groups = model.param_groups()  # checked by graftzoo: every parameter exactly once
    assert len(groups) >= 3
    assert sum(len(g) for g in groups) == len(list(model.parameters()))
    assert model.body.n_in == 3
    logits = model(torch.randn(2, 3, size, size))
    assert logits.shape == (2, 5)
    logits.sum().backward()
    unused = [n for n, p in model.named_parameters() if p.grad is None]
    assert not unused, f"parameters the body never uses: {unused[:5]}"


@pytest.mark.parametrize("name", SAMPLE)
def test_body(name: str) -> None:
    check_arch(name)

