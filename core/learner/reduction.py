"""Exact reduction of validation results across ranks: sums all-reduced, gathered rows concatenated.

A metric says how its state combines through two class attributes (see `graftzoo.metrics.Metric`):
`sum_states` (numbers or tensors summed across ranks: totals, counts, confusion matrices; a tensor
may be None or smaller on some ranks, it is zero-padded at the end of each dim) and `cat_states`
(lists of tensors whose rows are concatenated across ranks: predictions and targets of
corpus-level metrics).
Validation shards carry no padding, so the reduced state is the one a single process builds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor

from graftzoo.errors import ConfigError

__all__ = ["check_reducible", "comm_device", "gather_rows", "reduce_metric", "reduce_sums", "sum_tensor"]

_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.uint8, torch.bool, torch.int16, torch.int8)
_MAX_DIMS = 6


def comm_device() -> torch.device:
    """Where collective tensors live: the current CUDA device under NCCL, else the CPU."""
    if dist.is_initialized() and dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def reduce_sums(values: Sequence[Tensor | float | int]) -> list[Any]:
    """Sum each value over the ranks (one all_reduce); ints stay ints, the rest become floats."""
    t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=comm_device())
    dist.all_reduce(t)
    return [int(round(s)) if isinstance(v, int) else s for v, s in zip(values, t.tolist())]


def sum_tensor(value: Tensor | None) -> Tensor | None:
    """`value` summed over the ranks, zero-padded at the end of each dim to the largest shape (None: zeros)."""
    header = torch.full((2 + _MAX_DIMS,), -1, dtype=torch.int64, device=comm_device())
    if value is not None:
        if value.ndim > _MAX_DIMS:
            raise ConfigError(f"cannot sum metric tensors of {value.ndim} dims across ranks (at most {_MAX_DIMS}).")
        header[0], header[1] = value.ndim, _DTYPES.index(value.dtype)
        header[2 : 2 + value.ndim] = torch.tensor(value.shape, dtype=torch.int64)
    headers = [torch.empty_like(header) for _ in range(dist.get_world_size())]
    dist.all_gather(headers, header)
    filled = [h.tolist() for h in headers if h[0] >= 0]
    if not filled:
        return None
    ndim, dtype = filled[0][0], _DTYPES[filled[0][1]]
    shape = [max(h[2 + d] for h in filled) for d in range(ndim)]
    total = torch.zeros(shape, dtype=torch.float64, device=comm_device())
    if value is not None:
        total[tuple(slice(0, n) for n in value.shape)] = value.detach().to(comm_device(), torch.float64)
    dist.all_reduce(total)
    return total.to(dtype if value is None else value.dtype).to(value.device if value is not None else "cpu")


def gather_rows(parts: list[Tensor]) -> list[Tensor]:
    """Every rank's `torch.cat(parts)`, concatenated in rank order (as one chunk); ranks may hold none."""
    local = torch.cat([p.detach() for p in parts]) if parts else None
    header = torch.full((3 + _MAX_DIMS,), -1, dtype=torch.int64, device=comm_device())
    if local is not None:
        if local.ndim > _MAX_DIMS:
            raise ConfigError(f"cannot gather metric tensors of {local.ndim} dims across ranks (at most {_MAX_DIMS}).")
        header[0], header[1], header[2] = local.shape[0], local.ndim, _DTYPES.index(local.dtype)
        header[3 : 3 + local.ndim - 1] = torch.tensor(local.shape[1:], dtype=torch.int64)
    headers = [torch.empty_like(header) for _ in range(dist.get_world_size())]
    dist.all_gather(headers, header)
    filled = [h.tolist() for h in headers if h[0] >= 0]
    if not filled:
        return []
    n_max = max(h[0] for h in filled)
    ndim, dtype = filled[0][1], _DTYPES[filled[0][2]]
    trailing = filled[0][3 : 3 + ndim - 1]
    row = 1
    for d in trailing:
        row *= d
    flat = torch.zeros(n_max * row, dtype=torch.float64, device=comm_device())
    if local is not None:
        flat[: local.numel()] = local.reshape(-1).to(comm_device(), torch.float64)
    chunks = [torch.empty_like(flat) for _ in headers]
    dist.all_gather(chunks, flat)
    out = [c[: int(h[0]) * row].reshape(int(h[0]), *trailing).to(dtype).cpu() for c, h in zip(chunks, headers) if h[0] > 0]
    return [torch.cat(out)] if out else []


def check_reducible(metric: Any) -> None:
    """Refuse, before training starts, a metric whose state cannot be combined across ranks."""
    if not (getattr(metric, "sum_states", ()) or getattr(metric, "cat_states", ())):
        name = getattr(metric, "name", type(metric).__name__)
        raise ConfigError(
            f"metric {name!r} ({type(metric).__name__}) cannot be combined across processes: give its class "
            "`sum_states` (attributes summed over ranks) and/or `cat_states` (lists of tensors concatenated), "
            "or pass it as a plain function (pred, targ) -> tensor."
        )


def reduce_metric(metric: Any) -> None:
    """Replace the metric's local state by the state of the whole validation set."""
    sums = tuple(getattr(metric, "sum_states", ()))
    numbers = [n for n in sums if isinstance(getattr(metric, n), (int, float))]
    for name, value in zip(numbers, reduce_sums([getattr(metric, n) for n in numbers]) if numbers else []):
        setattr(metric, name, value)
    for name in sums:
        if name not in numbers:
            setattr(metric, name, sum_tensor(getattr(metric, name)))
    for name in getattr(metric, "cat_states", ()):
        setattr(metric, name, gather_rows(list(getattr(metric, name))))
