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

    column: torch.Tensor
    width: torch.Tensor
    offset: torch.Tensor

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
        column = [i for i, d in enumerate(self.dims) for _ in range(d)]  # output position -> its column
        within = [j for d in self.dims for j in range(d)]  # output position -> its place in the column's vector
        # Not saved: they follow from the cardinalities and dims, which the config holds. Output position k of
        # row r reads weight[x_cat[r, column[k]] * width[k] + offset[k]].
        self.register_buffer("column", torch.tensor(column, dtype=torch.long), persistent=False)
        self.register_buffer("width", torch.tensor([self.dims[c] for c in column], dtype=torch.long), persistent=False)
        self.register_buffer("offset", torch.tensor([self.starts[c] + j for c, j in zip(column, within)], dtype=torch.long), persistent=False)

    @property
    def n_out(self) -> int:
        return sum(self.dims)

    def index(self, x_cat: torch.Tensor) -> torch.Tensor:
        """(B, sum(dims)): where in `weight` each output value of each row is."""
        return x_cat.gather(1, self.column.expand(x_cat.shape[0], -1)).mul_(self.width).add_(self.offset)

    def forward(self, x_cat: torch.Tensor) -> torch.Tensor:
        return torch.take(self.weight, self.index(x_cat))  # its backward is one scatter-add into the flat table

    def table(self, i: int) -> torch.Tensor:
        """Column i's embedding matrix (n_i, d_i), a view of `weight`."""
        start = self.starts[i]
        return self.weight[start:start + self.cardinalities[i] * self.dims[i]].view(self.cardinalities[i], self.dims[i])

    def extra_repr(self) -> str:
        return ", ".join(f"({n}, {d})" for n, d in zip(self.cardinalities, self.dims))
