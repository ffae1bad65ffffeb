"""Vision tasks beyond the core's generic ones."""

from __future__ import annotations

from typing import Any, Sequence

import torch

from graftzoo.task import ClassificationTask

SAME_OR_DIFFERENT = ("different", "same")


class SameOrDifferentTask(ClassificationTask):
    """Image pairs labelled 0 (different classes) or 1 (same class)."""

    name = "vision/same_or_different"
    default_head = "vision/siamese"

    def decode_labels(self, decoded: torch.Tensor, vocab: Sequence[str] | None) -> Any:
        return super().decode_labels(decoded, vocab or SAME_OR_DIFFERENT)
