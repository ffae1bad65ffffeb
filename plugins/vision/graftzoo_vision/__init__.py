"""graftzoo-vision: image heads (classify, siamese, unet), vision tasks, image data, xresnet.

Names load on first use, so `import graftzoo_vision` stays light.
"""

from __future__ import annotations

from graftzoo.lazy import lazy_exports

_LAZY = {
    "ImageDataLoaders": "graftzoo_vision.data",
    "SegmentationDataLoaders": "graftzoo_vision.data.segmentation",
    "SiameseDataLoaders": "graftzoo_vision.data.siamese",
    "vision_learner": "graftzoo_vision.learner",
    "unet_learner": "graftzoo_vision.unet_training",
    "siamese_learner": "graftzoo_vision.siamese_training",
    "embed": "graftzoo_vision.embedding",
    "create_head": "graftzoo_vision.classify_head",
    "AdaptiveConcatPool2d": "graftzoo_vision.layers",
    "ClassificationInterpretation": "graftzoo_vision.interpret",
    "Interpretation": "graftzoo_vision.interpret",
    "grad_cam": "graftzoo_vision.cam",
    "class_activation_map": "graftzoo_vision.cam",
    "plot_cam": "graftzoo_vision.cam",
    "Hook": "graftzoo_vision.cam",
    "HookBwd": "graftzoo_vision.cam",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_exports('graftzoo_vision', globals(), _LAZY)
