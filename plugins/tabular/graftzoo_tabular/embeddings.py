"""ColumnEmbeddings: one embedding per categorical column, stored as ONE flat table with offsets.

fastai keeps a list of nn.Embedding (one lookup and one backward per column, then a concat). Here
column i's (n_i, d_i) matrix is a slice of one parameter `weight`; a forward is one gather that
produces the concatenated embeddings directly. `table(i)` shows column i's matrix.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def emb_sz_rule(n_cat: int) -> int:
    """fastai's rule of thumb for an embedding width: min(600, round(1.6 * n_cat ** 0.56))."""
    return min(600, round(1.6 * n_cat**0.56))


class ColumnEmbeddings(nn.Module):
    """`(B, n_cat)` int64 codes -> `(B, sum(dims))` concatenated embeddings."""

    def __init__(self, cardinalities: Sequence[int], dims: Sequence[int], std: float = 0.01) -> None:
        super().__init__()
        if len(cardinalities) != len(dims):
            raise ValueError(f"{len(cardinalities)} cardinalities but {len(dims)} embedding sizes")
        self.cardinalities, self.dims = [int(n) for n in cardinalities], [int(d) for d in dims]
        sizes = [n * d for n, d in zip(self.cardinalities, self.dims)]
        self.starts = [sum(sizes[:i]) for i in range(len(sizes))]
        self.weight = nn.Parameter(torch.empty(sum(sizes)))
        with torch.no_grad():  # fastai's trunc_normal_: normal, fmod 2, times std
            self.weight.normal_().fmod_(2).mul_(std)
        column = torch.tensor([i for i, d in enumerate(self.dims) for _ in range(d)], dtype=torch.long)
        stride = torch.tensor([d for d in self.dims for _ in range(d)], dtype=torch.long)
        offset = torch.tensor([self.starts[i] + j for i, d in enumerate(self.dims) for j in range(d)], dtype=torch.long)
        # Not saved: they follow from the cardinalities and dims, which the config holds.
        self.register_buffer("column", column, persistent=False)
        self.register_buffer("stride", stride, persistent=False)
        self.register_buffer("offset", offset, persistent=False)

    @property
    def n_out(self) -> int:
        return sum(self.dims)

    def forward(self, x_cat: torch.Tensor) -> torch.Tensor:
        index = x_cat.index_select(1, self.column) * self.stride + self.offset
        return nn.functional.embedding(index, self.weight.unsqueeze(1)).squeeze(-1)

    def table(self, i: int) -> torch.Tensor:
        """Column i's embedding matrix (n_i, d_i), a view of `weight`."""
        start = self.starts[i]
        return self.weight[start:start + self.cardinalities[i] * self.dims[i]].view(self.cardinalities[i], self.dims[i])

    def extra_repr(self) -> str:
        return ", ".join(f"({n}, {d})" for n, d in zip(self.cardinalities, self.dims))
