"""Parameter-efficient fine-tuning: LoRA adapters on a body's Conv2d and Linear layers and RNN weights, through `peft`.

`LoRA` (settings, plain JSON) imports nothing heavy; the rest loads torch, and `peft` only when
adapters are actually added (`pip install "graftzoo[peft]"`).
"""

from __future__ import annotations

from graftzoo.adapters.lora import LoRA, check_adapters
from graftzoo.lazy import lazy_exports

_LAZY = {
    "add_adapters": "graftzoo.adapters.attach",
    "merge": "graftzoo.adapters.attach",
    "MissingPeftError": "graftzoo.adapters.peft_layers",
    "require_peft": "graftzoo.adapters.peft_layers",
    "is_adapter_key": "graftzoo.adapters.trainable",
    "has_adapters": "graftzoo.adapters.trainable",
    "locked_param_ids": "graftzoo.adapters.trainable",
}

__all__ = ["LoRA", "check_adapters", *sorted(_LAZY)]

__getattr__, __dir__ = lazy_exports("graftzoo.adapters", globals(), _LAZY)
