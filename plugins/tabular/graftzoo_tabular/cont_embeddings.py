"""Embeddings of continuous columns (Gorishniy et al. 2022, "On Embeddings for Numerical Features in
Tabular Deep Learning"): each number becomes a small vector before the MLP.

- `periodic` (their PLR): `v = [cos(2π c x), sin(2π c x)]` with trainable frequencies `c`
  (initialised N(0, sigma²), clipped at 3 sigma), then a per-column Linear and ReLU.
- `piecewise_linear` (PLE + Linear + ReLU): training quantiles cut each column into bins; a number
  is encoded as 1 for the bins below it, its position inside its own bin, 0 above (the first and
  last bins are open-ended); then a per-column Linear and ReLU.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from graftzoo_tabular.errors import ConfigError

CONT_EMBEDDINGS = ("periodic", "piecewise_linear")


class ColumnLinear(nn.Module):
    """One Linear per column: (B, n, d_in) -> (B, n, d_out)."""

    def __init__(self, n: int, d_in: int, d_out: int) -> None:
        super().__init__()
        bound = 1 / math.sqrt(d_in)
        self.weight = nn.Parameter(torch.empty(n, d_in, d_out).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(n, d_out).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bni,nio->bno", x, self.weight) + self.bias


class PeriodicEmbeddings(nn.Module):
    """(B, n_cont) -> (B, n_cont * d_embedding)."""

    def __init__(self, n_cont: int, d_embedding: int = 24, n_frequencies: int = 48, sigma: float = 0.01) -> None:
        super().__init__()
        self.frequencies = nn.Parameter(torch.empty(n_cont, n_frequencies).normal_(0.0, sigma).clamp_(-3 * sigma, 3 * sigma))
        self.linear = ColumnLinear(n_cont, 2 * n_frequencies, d_embedding)
        self.n_out = n_cont * d_embedding

    def forward(self, x_cont: torch.Tensor) -> torch.Tensor:
        angles = 2 * math.pi * self.frequencies * x_cont.unsqueeze(-1)
        v = torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)
        return torch.relu(self.linear(v)).flatten(1)


class PiecewiseLinearEmbeddings(nn.Module):
    """(B, n_cont) -> (B, n_cont * d_embedding), from each column's bin edges (see `quantile_bins`)."""

    left: torch.Tensor
    size: torch.Tensor
    low: torch.Tensor
    high: torch.Tensor
    mask: torch.Tensor

    def __init__(self, bins: Sequence[Sequence[float]], d_embedding: int = 24) -> None:
        super().__init__()
        if not bins or any(len(edges) < 2 for edges in bins):
            raise ConfigError("piecewise_linear needs at least two bin edges per continuous column")
        n, width = len(bins), max(len(edges) for edges in bins) - 1
        left = torch.zeros(n, width)
        size = torch.ones(n, width)
        low = torch.zeros(n, width)
        high = torch.ones(n, width)
        mask = torch.zeros(n, width)
        for i, edges in enumerate(bins):
            e = torch.tensor([float(v) for v in edges])
            if not bool((e[1:] > e[:-1]).all()):
                raise ConfigError(f"bin edges of continuous column {i} must increase strictly, got {list(edges)}")
            t = len(edges) - 1
            left[i, :t], size[i, :t], mask[i, :t] = e[:-1], e[1:] - e[:-1], 1.0
            low[i, 0] = -math.inf  # below the first edge: negative, not clipped
            high[i, t - 1] = math.inf  # above the last edge: beyond 1, not clipped
        for name, value in (("left", left), ("size", size), ("low", low), ("high", high), ("mask", mask)):
            self.register_buffer(name, value, persistent=False)  # rebuilt from `bins`, which the config holds
        self.linear = ColumnLinear(n, width, d_embedding)
        self.n_out = n * d_embedding

    def encode(self, x_cont: torch.Tensor) -> torch.Tensor:
        """(B, n) -> (B, n, n_bins): the piecewise-linear encoding itself."""
        ratio = (x_cont.unsqueeze(-1) - self.left) / self.size
        return torch.clamp(ratio, min=self.low, max=self.high) * self.mask

    def forward(self, x_cont: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.linear(self.encode(x_cont))).flatten(1)


def quantile_bins(x_cont: torch.Tensor, n_bins: int = 48) -> list[list[float]]:
    """Bin edges per column from the training values: distinct quantiles at 0, 1/n_bins, ..., 1."""
    if n_bins < 1:
        raise ConfigError(f"n_bins must be at least 1, got {n_bins}")
    qs = torch.linspace(0, 1, n_bins + 1, dtype=torch.float64)
    bins = []
    for column in x_cont.detach().double().cpu().T:
        edges = torch.unique(torch.quantile(column, qs)).tolist()
        bins.append(edges if len(edges) >= 2 else [edges[0], edges[0] + 1.0])
    return bins


ContEmbeddings = PeriodicEmbeddings | PiecewiseLinearEmbeddings


def cont_embeddings(
    kind: str, n_cont: int, d_embedding: int = 24, bins: Sequence[Sequence[float]] | None = None, sigma: float = 0.01
) -> ContEmbeddings:
    """The continuous-column embedding `kind` ("periodic" or "piecewise_linear")."""
    if kind == "periodic":
        return PeriodicEmbeddings(n_cont, d_embedding, sigma=sigma)
    if kind == "piecewise_linear":
        if bins is None or len(bins) != n_cont:
            raise ConfigError(
                f"cont_emb='piecewise_linear' needs cont_bins: one list of edges per continuous column ({n_cont}); "
                "tabular_learner computes them from the training rows"
            )
        return PiecewiseLinearEmbeddings(bins, d_embedding)
    raise ConfigError(f"cont_emb must be one of {list(CONT_EMBEDDINGS)} or None, got {kind!r}")
