"""The `unet` head: DynamicUnet's decoder grafted onto any CNN body, the body kept outside the head.

`DynamicUnet` owns its encoder; a graftzoo head must not (the body's parameters live only in
`model.body`). So the head holds the decoder alone and names the body modules whose outputs feed
its skip connections ("taps"). `graft_forward(body, x)` runs the body once with temporary forward
hooks on those taps, then the decoder: middle convs, one `UnetBlock` per resolution change
(deepest first), final upsampling, resize to the input's size, cross connection, output conv.

Taps are found by a dummy forward at `img_size`, as DynamicUnet does: every direct child of a
sequential body (torchvision, xresnet) is a candidate, else the stages of the body's
`feature_info` (timm); the last candidate at each resolution above the body's output is a tap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from graftzoo.body import Body, stage_children
from graftzoo.errors import ConfigError
from graftzoo.head import Head
from graftzoo_vision.unet import UnetDecoder, size_change_indices

Size = tuple[int, int]


@dataclass(frozen=True)
class Tap:
    """A body module whose output feeds a skip connection: its name in `body.net`, its channels,
    and whether it outputs channels-last (B, H, W, C) maps that must be permuted."""

    name: str
    channels: int
    nhwc: bool = False


def run_with_taps(body: nn.Module, taps: Sequence[Tap], x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """`body(x)` and the outputs of the `taps` (as (B, C, H, W)), through temporary forward hooks."""
    found: dict[int, torch.Tensor] = {}

    def keep(i: int, nhwc: bool) -> Callable[..., None]:
        def hook(_module: nn.Module, _args: Any, out: Any) -> None:
            if isinstance(out, torch.Tensor):
                found[i] = out.permute(0, 3, 1, 2) if nhwc else out

        return hook

    net = body.net if isinstance(body, Body) else body
    handles = [net.get_submodule(t.name).register_forward_hook(keep(i, t.nhwc)) for i, t in enumerate(taps)]
    try:
        out = body(x)
    finally:
        for handle in handles:
            handle.remove()
    missing = [t.name for i, t in enumerate(taps) if i not in found]
    if missing:
        raise ConfigError(
            f"the body's modules {missing} gave no tensor output in forward, so the U-Net has no skip "
            "connection from them; use a CNN body whose stages return feature maps."
        )
    return out, [found[i] for i in range(len(taps))]


def tap_candidates(body: Body) -> list[Tap]:
    """Modules of `body.net` that may feed skip connections, in forward order (channels unknown yet)."""
    if body.pooled:
        raise ConfigError(
            f"the U-Net head needs a body that outputs feature maps, but {body.arch} gives pooled "
            "features (a transformer?); choose a CNN arch (resnet, efficientnet, convnext, xresnet)."
        )
    if isinstance(body.net, nn.Sequential):
        return [Tap(name, 0) for name, _ in stage_children(body.net)]
    taps = [Tap(str(s.get("module", "")), 0, s.get("layout") == "NHWC") for s in body.feature_info]
    taps = [t for t in taps if t.name]
    for tap in taps:
        try:
            body.net.get_submodule(tap.name)
        except AttributeError:
            raise ConfigError(
                f"the body's feature_info names module {tap.name!r}, which {body.arch}'s body does not have; "
                "the arch's plugin reports wrong stages (a U-Net needs them for its skip connections)."
            ) from None
    if len(taps) < 2:
        raise ConfigError(
            f"{body.arch}'s body lists {len(taps)} stage(s) in feature_info; a U-Net needs the stages at each "
            "resolution for its skip connections. Use a sequential body (a cut torchvision model) or a timm CNN."
        )
    return taps


def probe_taps(body: Body, candidates: Sequence[Tap], img_size: Size) -> tuple[list[Tap], Size, int]:
    """(taps with their channels, spatial size of the first candidate, channels of the body's output).

    One dummy forward at `img_size` in eval mode, without gradients, on the body's device (also
    when the head itself is being built under `torch.device("meta")`).
    """
    param = next(body.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    was_training = body.training
    body.eval()
    try:
        with torch.device(device), torch.no_grad():
            x = torch.zeros(1, body.n_in, *img_size, device=device, dtype=dtype)
            out, stages = run_with_taps(body, candidates, x)
    finally:
        body.train(was_training)
    shapes = [tuple(s.shape) for s in [*stages, out]]
    if any(len(s) != 4 for s in shapes):
        raise ConfigError(
            f"{body.arch}'s body or its stages do not output (B, C, H, W) feature maps (shapes {shapes}); "
            "a U-Net head needs a CNN body."
        )
    idxs = size_change_indices(shapes)
    if not idxs:
        raise ConfigError(
            f"{body.arch}'s body never changes resolution at img_size={list(img_size)}, so a U-Net has nothing to "
            "upsample; pass a larger img_size or use a CNN body that downsamples."
        )
    taps = [Tap(candidates[i].name, int(shapes[i][1]), candidates[i].nhwc) for i in idxs]
    return taps, (int(shapes[0][-2]), int(shapes[0][-1])), int(shapes[-1][1])


class UnetHead(Head, UnetDecoder):
    """DynamicUnet without its encoder: the decoder, fed by the body's output and its `taps`.

    Children are named as in `DynamicUnet` (`bn`, `relu`, `middle_conv`, `blocks`, `final_shuf`,
    `resize`, `cross`, `final_conv`, `y_range`), so its state dict is DynamicUnet's minus `encoder.`.
    `taps` (shallow to deep) and `ni` (channels of the body's output) come from `unet_head`'s probe;
    `needs_shuf` when the shallowest tap is smaller than the input.
    """

    def __init__(self, taps: Sequence[Tap], ni: int, c_in: int, n_out: int, needs_shuf: bool = True,
                 **options: Any) -> None:
        super().__init__()
        self.taps = tuple(taps)  # plain attribute: the body's modules stay out of the head
        self.build_decoder(ni, [tap.channels for tap in reversed(self.taps)], c_in, n_out, needs_shuf, **options)

    def graft_forward(self, body: nn.Module, *inputs: torch.Tensor) -> torch.Tensor:
        (x,) = inputs
        features, skips = run_with_taps(body, self.taps, x)
        return self(features, skips, x)

    def forward(self, features: torch.Tensor, skips: Sequence[torch.Tensor], orig: torch.Tensor) -> torch.Tensor:
        """Decode the body's `features` with its `skips` (shallow to deep) to the size of `orig`."""
        return self.decode(features, list(reversed(skips)), orig)


def _img_size(img_size: int | Sequence[int] | None, body: Body) -> Size:
    if img_size is None:
        return (body.spec.probe_size, body.spec.probe_size)
    size = [img_size, img_size] if isinstance(img_size, int) else list(img_size)
    if len(size) != 2 or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in size):
        raise ConfigError(f"img_size must be a positive int or [height, width], got {img_size!r}")
    return size[0], size[1]


def unet_head(body: Body, n_out: int, img_size: int | Sequence[int] | None = None, blur: bool = False,
              blur_final: bool = True, self_attention: bool = False, y_range: Sequence[float] | None = None,
              last_cross: bool = True, bottle: bool = False) -> UnetHead:
    """Registered factory: a U-Net decoder for `body`, sized by a dummy forward at `img_size`.

    `img_size` (int or [height, width]; default the arch's probe size) only shapes the decoder: the
    grafted model takes any input size and outputs `n_out` maps of the input's spatial size.
    """
    if y_range is not None and len(y_range) != 2:
        raise ConfigError(f"y_range must be [low, high], got {y_range!r}")
    size = _img_size(img_size, body)
    taps, first_size, ni = probe_taps(body, tap_candidates(body), size)
    return UnetHead(taps, ni, body.n_in, n_out, needs_shuf=first_size != size, blur=blur, blur_final=blur_final,
                    self_attention=self_attention, y_range=y_range, last_cross=last_cross, bottle=bottle)
