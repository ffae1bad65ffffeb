"""Body splitters for torchvision families: `split(net) -> list[list[nn.Module]]`, earliest layers first.

`net` is the cut body; the core appends the head's group(s) and checks that every parameter is
covered once. The archs of fastai's `model_meta` split exactly as fastai does; every other family
splits the same way in spirit: the first group runs up to the stage at stride 8 (resnet's
`layer2`), the second holds the deeper stages.
"""

from __future__ import annotations

from torch import nn

from graftzoo.errors import SplitError
from graftzoo.splitter import split_by_names

Groups = list[list[nn.Module]]


def split_before(seq: nn.Module, first_of_second: int | str) -> Groups:
    """Two groups of `seq`'s children: those before `first_of_second` (an index or a child's name), then the rest."""
    names = [name for name, _ in seq.named_children()]
    index = names.index(first_of_second) if isinstance(first_of_second, str) else first_of_second
    if not 0 < index < len(names):
        raise SplitError(f"cannot split a body of {len(names)} children before {first_of_second!r}; was it cut differently?")
    children = list(seq.children())
    return [children[:index], children[index:]]


def _stride(module: nn.Module) -> int:
    """The largest stride of any convolution or pooling inside `module` (1 when it does not downsample)."""
    strides = [1]
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            stride = layer.stride if layer.stride is not None else layer.kernel_size
            strides += list(stride) if isinstance(stride, tuple) else [stride]
    return max(strides)


def stride_boundary(seq: nn.Module, max_stride: int = 8) -> int:
    """Index of the first child of `seq` that takes the running output stride above `max_stride`."""
    total = 1
    for index, child in enumerate(seq.children()):
        total *= _stride(child)
        if total > max_stride:
            return index
    raise SplitError(f"the body never downsamples past stride {max_stride}; cannot find where its later stages start")


# -- fastai's model_meta, re-expressed on the named body -------------------------------------


def resnet_split(net: nn.Module) -> Groups:
    """fastai `_resnet_split`: stem, layer1 and layer2 | layer3 and layer4 (also resnext, wide_resnet)."""
    return split_before(net, "layer3")


def squeezenet_split(net: nn.Module) -> Groups:
    """fastai `_squeezenet_split`: features[:5] | features[5:]."""
    return split_before(net.get_submodule("features"), 5)


def densenet_split(net: nn.Module) -> Groups:
    """fastai `_densenet_split`: features[:7] (up to denseblock2) | features[7:] (from transition2)."""
    return split_before(net.get_submodule("features"), 7)


def vgg_bn_split(net: nn.Module) -> Groups:
    """fastai `_vgg_split`: features[:22] | features[22:]."""
    return split_before(net.get_submodule("features"), 22)


def alexnet_split(net: nn.Module) -> Groups:
    """fastai `_alexnet_split`: features[:6] | features[6:]."""
    return split_before(net.get_submodule("features"), 6)


# -- every other family ------------------------------------------------------------------------


def features_split(net: nn.Module) -> Groups:
    """Bodies made of one `features` Sequential (vgg, efficientnet, mobilenet, convnext): split where the stride passes 8."""
    features = net.get_submodule("features")
    return split_before(features, stride_boundary(features))


def mnasnet_split(net: nn.Module) -> Groups:
    """MNASNet `layers`, split where the stride passes 8."""
    layers = net.get_submodule("layers")
    return split_before(layers, stride_boundary(layers))


def regnet_split(net: nn.Module) -> Groups:
    """RegNet: stem, block1 and block2 | block3 and block4."""
    return split_by_names(net, [
        ["stem", "trunk_output.block1", "trunk_output.block2"],
        ["trunk_output.block3", "trunk_output.block4"],
    ])  # fmt: skip


def shufflenet_split(net: nn.Module) -> Groups:
    """ShuffleNet v2: conv1, maxpool and stage2 | stage3, stage4 and conv5."""
    return split_before(net, "stage3")


def googlenet_split(net: nn.Module) -> Groups:
    """GoogLeNet: up to inception3b | from maxpool3 (inception4*, inception5*)."""
    return split_before(net, "maxpool3")


def inception_v3_split(net: nn.Module) -> Groups:
    """Inception v3: up to Mixed_5d | Mixed_6* and Mixed_7*."""
    return split_before(net, "Mixed_6a")


def swin_split(net: nn.Module) -> Groups:
    """Swin: patch embedding, stage 1, merging and stage 2 | stages 3 and 4 and the final norm."""
    first, second = split_before(net.get_submodule("features"), 4)
    return [first, second + [net.get_submodule("norm")]]


def maxvit_split(net: nn.Module) -> Groups:
    """MaxViT: stem, blocks 0 and 1 | blocks 2 and 3."""
    blocks = [f"blocks.{name}" for name, _ in net.get_submodule("blocks").named_children()]
    half = len(blocks) // 2
    return split_by_names(net, [["stem", *blocks[:half]], blocks[half:]])


def vit_split(net: nn.Module) -> list[list[nn.Module | nn.Parameter]]:
    """ViT: patch projection, class token, position embedding and the first half of the encoder layers | the rest and `ln`."""
    layers = [f"encoder.layers.{name}" for name, _ in net.get_submodule("encoder.layers").named_children()]
    half = len(layers) // 2
    embed: list[nn.Module | nn.Parameter] = [net.get_submodule("conv_proj"), net.get_parameter("class_token"), net.get_parameter("encoder.pos_embedding")]
    first, second = split_by_names(net, [layers[:half], [*layers[half:], "encoder.ln"]])
    return [[*embed, *first], [*second]]
