"""TensorBatches: batches as slices of whole-table tensors (no per-row dataset, no collate)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch


class TensorBatches:
    """Yields `tuple(t[i:i + bs] for t in tensors)`.

    With `shuffle`, the tensors are permuted once per epoch (one gather each) and then sliced, so a
    batch costs a few tensor views. With `drop_last`, a last partial batch is skipped (train).
    """

    def __init__(
        self,
        tensors: Sequence[torch.Tensor],
        bs: int,
        shuffle: bool = False,
        drop_last: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        if not tensors or len({int(t.shape[0]) for t in tensors}) != 1:
            raise ValueError("TensorBatches needs tensors with one common first dimension")
        if bs < 1:
            raise ValueError(f"bs must be at least 1, got {bs}")
        self.tensors, self.bs, self.shuffle, self.drop_last = tuple(tensors), bs, shuffle, drop_last
        self.generator = generator

    @property
    def n(self) -> int:
        """Rows."""
        return int(self.tensors[0].shape[0])

    @property
    def device(self) -> torch.device:
        return self.tensors[0].device

    def __len__(self) -> int:
        return self.n // self.bs if self.drop_last else -(-self.n // self.bs)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        tensors = self.tensors
        if self.shuffle:
            order = torch.randperm(self.n, generator=self.generator).to(self.device)
            tensors = tuple(t[order] for t in tensors)
        bs = self.bs
        for start in range(0, len(self) * bs, bs):
            yield tuple(t[start:start + bs] for t in tensors)

    def __repr__(self) -> str:
        return f"TensorBatches(n={self.n}, bs={self.bs}, shuffle={self.shuffle}, drop_last={self.drop_last}, device={self.device})"
