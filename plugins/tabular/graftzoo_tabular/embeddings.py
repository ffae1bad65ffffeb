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

    col_dims: torch.Tensor
    col_starts: torch.Tensor
    column: torch.Tensor
    within: torch.Tensor

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
        within = torch.tensor([j for d in self.dims for j in range(d)], dtype=torch.long)
        # Not saved: they follow from the cardinalities and dims, which the config holds.
        self.register_buffer("col_dims", torch.tensor(self.dims, dtype=torch.long), persistent=False)
        self.register_buffer("col_starts", torch.tensor(self.starts, dtype=torch.long), persistent=False)
        self.register_buffer("column", column, persistent=False)
        self.register_buffer("within", within, persistent=False)

    @property
    def n_out(self) -> int:
        return sum(self.dims)

    def forward(self, x_cat: torch.Tensor) -> torch.Tensor:
        row_start = x_cat * self.col_dims + self.col_starts  # (B, n_cat): where each row's vector begins
        index = row_start.gather(1, self.column.expand(x_cat.shape[0], -1)) + self.within  # (B, sum(dims))
        return torch.take(self.weight, index)  # its backward is one scatter-add into the flat table

    def table(self, i: int) -> torch.Tensor:
        """Column i's embedding matrix (n_i, d_i), a view of `weight`."""
        start = self.starts[i]
        return self.weight[start:start + self.cardinalities[i] * self.dims[i]].view(self.cardinalities[i], self.dims[i])

    def extra_repr(self) -> str:
        return ", ".join(f"({n}, {d})" for n, d in zip(self.cardinalities, self.dims))
