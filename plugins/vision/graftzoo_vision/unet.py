"""fastai's DynamicUnet: a U-Net decoder built on any sequential encoder, sized from a dummy forward.

The encoder's direct children are probed with forward hooks (`stage_outputs`); the last child
before each change of spatial size (`size_change_indices`) feeds a skip connection into a
`UnetBlock`. The output always has the input's spatial size, also for odd sizes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from graftzoo_vision.layers import (
    ActCls,
    ConvLayer,
    InitFn,
    NormType,
    PixelShuffle_ICNR,
    ResBlock,
    SelfAttention,
    SigmoidRange,
    apply_init,
    batch_norm,
)

_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


def in_channels(m: nn.Module) -> int:
    """Input channels of the first convolution in `m`."""
    for module in m.modules():
        if isinstance(module, _CONVS):
            return module.in_channels
    raise ValueError("no convolution found in the encoder, cannot tell its input channels")


def stage_outputs(encoder: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """Run `encoder` on `x` and return the output of each direct child, in the children's order.

    Uses temporary forward hooks, so it works for any module whose children make up its forward.
    """
    children = list(encoder.children())
    outputs: dict[int, torch.Tensor] = {}

    def _hook(idx: int) -> Callable:
        def store(module: nn.Module, args: tuple, output: torch.Tensor) -> None:
            outputs[idx] = output

        return store

    handles = [child.register_forward_hook(_hook(i)) for i, child in enumerate(children)]
    try:
        encoder(x)
    finally:
        for handle in handles:
            handle.remove()
    return [outputs[i] for i in sorted(outputs)]


def size_change_indices(sizes: Sequence[Sequence[int]]) -> list[int]:
    """Indices `i` where the spatial size (last two dims) of `sizes[i+1]` differs from `sizes[i]`:
    the last layer at each resolution (fastai's `_get_sz_change_idxs`)."""
    return [i for i in range(len(sizes) - 1) if tuple(sizes[i][-2:]) != tuple(sizes[i + 1][-2:])]


class UnetBlock(nn.Module):
    """Decoder step: upsample `up_in` (PixelShuffle_ICNR, halving its channels), resize it to the skip's
    size if needed, concatenate with the batch-normed skip, activate, then two ConvLayers.

    Output channels (`out_channels`): `up_in_c//2 + x_in_c`, halved when not `final_div`.
    """

    def __init__(self, up_in_c: int, x_in_c: int, final_div: bool = True, blur: bool = False,
                 act_cls: ActCls = nn.ReLU, self_attention: bool = False,
                 init: InitFn | None = nn.init.kaiming_normal_, norm_type: NormType | None = None, **kwargs: Any):
        super().__init__()
        self.shuf = PixelShuffle_ICNR(up_in_c, up_in_c // 2, blur=blur, act_cls=act_cls, norm_type=norm_type)
        self.bn = batch_norm(x_in_c)
        ni = up_in_c // 2 + x_in_c
        nf = ni if final_div else ni // 2
        self.conv1 = ConvLayer(ni, nf, act_cls=act_cls, norm_type=norm_type, **kwargs)
        self.conv2 = ConvLayer(nf, nf, act_cls=act_cls, norm_type=norm_type,
                               xtra=SelfAttention(nf) if self_attention else None, **kwargs)
        self.relu = act_cls() if act_cls is not None else nn.Identity()
        self.out_channels = nf
        apply_init(nn.ModuleList([self.conv1, self.conv2]), init)

    def forward(self, up_in: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        up_out = self.shuf(up_in)
        if skip.shape[-2:] != up_out.shape[-2:]:
            up_out = F.interpolate(up_out, skip.shape[-2:], mode="nearest")
        cat_x = self.relu(torch.cat([up_out, self.bn(skip)], dim=1))
        return self.conv2(self.conv1(cat_x))


class ResizeToOrig(nn.Module):
    """Interpolate `x` to the spatial size of `orig` (the network input) when they differ."""

    def __init__(self, mode: str = "nearest"):
        super().__init__()
        self.mode = mode

    def forward(self, x: torch.Tensor, orig: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != orig.shape[-2:]:
            x = F.interpolate(x, orig.shape[-2:], mode=self.mode)
        return x


class UnetDecoder(nn.Module):
    """DynamicUnet's decoder, shared by `DynamicUnet` (which owns its encoder) and graftzoo's `unet` head.

    `build_decoder` sets the children `bn`, `relu`, `middle_conv`, `blocks`, `final_shuf`, `resize`,
    `cross`, `final_conv` and `y_range`; `decode` runs them on the encoder's output and its skips.
    """

    def build_decoder(self, ni: int, skip_channels: Sequence[int], c_in: int, n_out: int, needs_shuf: bool,
                      blur: bool = False, blur_final: bool = True, self_attention: bool = False,
                      y_range: Sequence[float] | None = None, last_cross: bool = True, bottle: bool = False,
                      act_cls: ActCls = nn.ReLU, init: InitFn | None = nn.init.kaiming_normal_,
                      norm_type: NormType | None = None, **kwargs: Any) -> None:
        """`ni`: channels of the encoder's output; `skip_channels`: channels of the skips, deepest first."""
        conv_kw = dict(act_cls=act_cls, norm_type=norm_type, **kwargs)
        self.bn = batch_norm(ni)
        self.relu = nn.ReLU()
        self.middle_conv = nn.Sequential(OrderedDict(conv_0=ConvLayer(ni, ni * 2, **conv_kw),
                                                     conv_1=ConvLayer(ni * 2, ni, **conv_kw)))
        blocks = []
        for i, channels in enumerate(skip_channels):
            not_final = i != len(skip_channels) - 1
            block = UnetBlock(ni, channels, final_div=not_final, blur=blur and (not_final or blur_final),
                              self_attention=self_attention and i == len(skip_channels) - 3, init=init, **conv_kw)
            blocks.append(block)
            ni = block.out_channels
        self.blocks = nn.ModuleList(blocks)
        self.final_shuf = PixelShuffle_ICNR(ni, act_cls=act_cls, norm_type=norm_type) if needs_shuf else nn.Identity()
        self.resize = ResizeToOrig()
        self.last_cross = last_cross
        if last_cross:
            ni += c_in
            self.cross = ResBlock(1, ni, ni // 2 if bottle else ni, **conv_kw)
            ni = ni // 2 if bottle else ni  # fastai keeps `ni` here, which breaks bottle=True
        self.final_conv = ConvLayer(ni, n_out, ks=1, act_cls=None, norm_type=norm_type, **kwargs)
        self.y_range = SigmoidRange(*y_range) if y_range is not None else nn.Identity()
        apply_init(nn.ModuleList([self.middle_conv, self.cross] if last_cross else [self.middle_conv]), init)

    def decode(self, features: torch.Tensor, skips: Sequence[torch.Tensor], orig: torch.Tensor) -> torch.Tensor:
        """Decode the encoder's `features` with its `skips` (deepest first) to the size of `orig`."""
        x = self.middle_conv(self.relu(self.bn(features)))
        for block, skip in zip(self.blocks, skips):
            x = block(x, skip)
        x = self.resize(self.final_shuf(x), orig)
        if self.last_cross:
            x = self.cross(torch.cat([x, orig], dim=1))
        return self.y_range(self.final_conv(x))


class DynamicUnet(UnetDecoder):
    """U-Net on `encoder` (an `nn.Sequential`, e.g. a body cut from a classifier) with `n_out` output maps.

    Follows fastai: encoder -> BatchNorm + ReLU -> `middle_conv` (two ConvLayers, channels x2 then
    back) -> one `UnetBlock` per resolution change of the encoder, deepest first -> `final_shuf`
    (PixelShuffle_ICNR when the shallowest skip is below `img_size`) -> `resize` to the input size ->
    with `last_cross`, concatenation with the input and a `cross` ResBlock (`bottle` halves its
    channels) -> `final_conv` (1x1) -> `y_range` (SigmoidRange). `self_attention` adds it to the third
    block from the end; `blur` blurs the upsampling (the last block's only if `blur_final`).
    Decoder convs have no norm (`norm_type=None`) unless asked. Extra kwargs go to the ConvLayers.
    """

    def __init__(self, encoder: nn.Sequential, n_out: int, img_size: int | tuple[int, int],
                 blur: bool = False, blur_final: bool = True, self_attention: bool = False,
                 y_range: tuple[float, float] | None = None, last_cross: bool = True, bottle: bool = False,
                 act_cls: ActCls = nn.ReLU, init: InitFn | None = nn.init.kaiming_normal_,
                 norm_type: NormType | None = None, **kwargs: Any):
        super().__init__()
        if not isinstance(encoder, nn.Sequential):
            raise TypeError(f"DynamicUnet needs an nn.Sequential encoder, got {type(encoder).__name__}")
        size = (img_size, img_size) if isinstance(img_size, int) else (img_size[0], img_size[1])
        c_in = in_channels(encoder)
        sizes = self._probe(encoder, c_in, size)
        idxs = list(reversed(size_change_indices(sizes)))
        self.skip_idxs = tuple(idxs)
        self.encoder = encoder
        self.build_decoder(sizes[-1][1], [sizes[idx][1] for idx in idxs], c_in, n_out,
                           needs_shuf=tuple(sizes[0][-2:]) != size, blur=blur, blur_final=blur_final,
                           self_attention=self_attention, y_range=y_range, last_cross=last_cross, bottle=bottle,
                           act_cls=act_cls, init=init, norm_type=norm_type, **kwargs)

    @staticmethod
    def _probe(encoder: nn.Sequential, c_in: int, img_size: tuple[int, int]) -> list[torch.Size]:
        """Output shapes of the encoder's children for one dummy image, in eval mode, no grad."""
        param = next(encoder.parameters(), None)
        device, dtype = (param.device, param.dtype) if param is not None else (None, None)
        x = torch.empty(1, c_in, *img_size, device=device, dtype=dtype).uniform_(-1.0, 1.0)
        was_training = encoder.training
        encoder.eval()
        try:
            with torch.no_grad():
                shapes = [o.shape for o in stage_outputs(encoder, x)]
        finally:
            encoder.train(was_training)
        return shapes

    def head_modules(self) -> list[nn.Module]:
        """Every child but the encoder: the decoder, for parameter groups (fastai's `m[1:]`)."""
        return [m for name, m in self.named_children() if name != "encoder"]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        orig = x
        skips: dict[int, torch.Tensor] = {}
        for idx, layer in enumerate(self.encoder):
            x = layer(x)
            if idx in self.skip_idxs:
                skips[idx] = x
        return self.decode(x, [skips[idx] for idx in self.skip_idxs], orig)
