"""graftzoo-text: fastai's tokenizer, AWD-LSTM (ULMFiT) language model and classifier, text data.

Names load on first use, so `import graftzoo_text` stays light.
"""

from __future__ import annotations

from graftzoo.lazy import lazy_exports

_LAZY: dict[str, str] = {}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_exports('graftzoo_text', globals(), _LAZY)
