"""graftzoo-vision: image heads (classify, siamese, unet), vision tasks, image data, xresnet.

Names load on first use, so `import graftzoo_vision` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "ImageDataLoaders": "graftzoo_vision.data",
    "vision_learner": "graftzoo_vision.learner",
    "create_head": "graftzoo_vision.classify_head",
    "AdaptiveConcatPool2d": "graftzoo_vision.layers",
    "ClassificationInterpretation": "graftzoo_vision.interpret",
    "grad_cam": "graftzoo_vision.cam",
    "class_activation_map": "graftzoo_vision.cam",
    "plot_cam": "graftzoo_vision.cam",
    "Hook": "graftzoo_vision.cam",
    "HookBwd": "graftzoo_vision.cam",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'graftzoo_vision' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
