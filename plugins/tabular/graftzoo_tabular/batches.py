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
        order = self.order()
        if order is not None:
            tensors = tuple(t[order] for t in tensors)
        bs, rows = self.bs, int(tensors[0].shape[0])
        n_batches = rows // bs if self.drop_last else -(-rows // bs)
        for start in range(0, n_batches * bs, bs):
            yield tuple(t[start:start + bs] for t in tensors)

    def order(self) -> torch.Tensor | None:
        """The rows of this epoch, in order (None: all rows as stored)."""
        return torch.randperm(self.n, generator=self.generator).to(self.device) if self.shuffle else None

    def shard(self, rank: int, world_size: int, pad: bool) -> ShardedTensorBatches:
        """The rows `rank, rank + world_size, ...` of every epoch's order (the same on every rank with a
        seeded generator); with `pad`, every rank gets the same number of rows (training under DDP)."""
        return ShardedTensorBatches(self.tensors, self.bs, self.shuffle, self.drop_last, self.generator,
                                    rank=rank, world_size=world_size, pad=pad)

    def __repr__(self) -> str:
        return f"TensorBatches(n={self.n}, bs={self.bs}, shuffle={self.shuffle}, drop_last={self.drop_last}, device={self.device})"


class ShardedTensorBatches(TensorBatches):
    """One rank's share of a TensorBatches under DDP: every `world_size`-th row of each epoch's order."""

    def __init__(self, tensors: Sequence[torch.Tensor], bs: int, shuffle: bool, drop_last: bool,
                 generator: torch.Generator | None, *, rank: int, world_size: int, pad: bool) -> None:
        super().__init__(tensors, bs, shuffle, drop_last, generator)
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is not in a world of {world_size}")
        self.rank, self.world_size, self.pad = rank, world_size, pad

    def rows(self) -> int:
        """Rows this rank sees per epoch."""
        return -(-self.n // self.world_size) if self.pad else len(range(self.rank, self.n, self.world_size))

    def __len__(self) -> int:
        return self.rows() // self.bs if self.drop_last else -(-self.rows() // self.bs)

    def order(self) -> torch.Tensor:
        full = super().order()
        rows = torch.arange(self.n, device=self.device) if full is None else full
        if self.pad:
            total = -(-self.n // self.world_size) * self.world_size
            rows = torch.cat([rows, rows.repeat(-(-(total - self.n) // max(self.n, 1)))[: total - self.n]])
        return rows[self.rank::self.world_size]
