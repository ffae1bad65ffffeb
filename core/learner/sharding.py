"""Per-rank data: `shard_loaders(dls, rank, world_size)` and the default for torch DataLoaders.

A data-loaders class shards itself by implementing `distributed(rank, world_size)`, returning an
object with the same contract (`train`, `valid`, and the optional parts of
`graftzoo.data_protocol`) whose `train` gives every rank the same number of batches per epoch and
whose `valid` splits the validation set without padding. A loader (or its sampler) that reshuffles
per epoch implements `set_epoch(epoch)`; the Learner calls it before every training epoch.

Without that method, `train` and `valid` must be torch DataLoaders over map-style datasets:
training goes through a `DistributedSampler` (shuffled when the original loader shuffled, padded
to equal shards so every rank steps the same number of times) and validation through a strided
slice `rank::world_size` with nothing repeated, so reduced metrics are exact. A loader with a
sampler of its own (e.g. one drawing image pairs) keeps it: every rank draws the same keys from
its seeded generator and takes every `world_size`-th one (`ShardedSampler`), padded for training.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sized
from typing import Any

import torch
import torch.distributed as dist
from torch.utils.data import BatchSampler, DataLoader, DistributedSampler, RandomSampler, Sampler, SequentialSampler

from graftzoo.errors import ConfigError
from graftzoo.learner.reduction import comm_device

__all__ = ["ShardedLoaders", "ShardedSampler", "StridedShard", "shard_loader", "shard_loaders"]


class StridedShard(Sampler[int]):
    """Indices `rank, rank + world_size, ...` of `n` items: disjoint shards, nothing padded."""

    def __init__(self, n: int, rank: int, world_size: int) -> None:
        self.n, self.rank, self.world_size = n, rank, world_size

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.rank, self.n, self.world_size))

    def __len__(self) -> int:
        return len(range(self.rank, self.n, self.world_size))


class ShardedSampler(Sampler[Any]):
    """Every `world_size`-th key of `base` (which must draw the same keys on every rank), from `rank`;
    with `pad`, repeats the first keys so every rank yields `ceil(len(base) / world_size)`."""

    def __init__(self, base: Iterable[Any], rank: int, world_size: int, pad: bool) -> None:
        self.base, self.rank, self.world_size, self.pad = base, rank, world_size, pad

    def __iter__(self) -> Iterator[Any]:
        keys = list(self.base)
        if self.pad and keys:
            total = -(-len(keys) // self.world_size) * self.world_size
            keys += (keys * (total // len(keys) + 1))[: total - len(keys)]
        return iter(keys[self.rank :: self.world_size])

    def __len__(self) -> int:
        n = len(self.base)  # type: ignore[arg-type]
        return -(-n // self.world_size) if self.pad else len(range(self.rank, n, self.world_size))

    def set_epoch(self, epoch: int) -> None:
        f = getattr(self.base, "set_epoch", None)
        if callable(f):
            f(epoch)


class ShardedLoaders:
    """One rank's view of a DataLoaders: its own `train` and `valid`; every other attribute is the original's."""

    def __init__(self, base: Any, train: Any, valid: Any) -> None:
        self.base, self.train, self.valid = base, train, valid

    def __getattr__(self, name: str) -> Any:
        if name == "base":
            raise AttributeError(name)
        return getattr(self.base, name)

    def __repr__(self) -> str:
        return f"ShardedLoaders({self.base!r})"


def _broadcast_int(value: int) -> int:
    t = torch.tensor([value], dtype=torch.int64, device=comm_device())
    dist.broadcast(t, src=0)
    return int(t.item())


def _check_same_length(dl: Any, what: str) -> None:
    n = torch.tensor([len(dl.dataset)], dtype=torch.int64, device=comm_device())
    lens = [torch.empty_like(n) for _ in range(dist.get_world_size())]
    dist.all_gather(lens, n)
    sizes = [int(x.item()) for x in lens]
    if len(set(sizes)) > 1:
        raise ConfigError(
            f"the ranks built different {what} sets (sizes {sizes} by rank): build the data identically on "
            "every rank (pass a fixed seed to the loaders' constructor, e.g. seed=0)."
        )


def shard_loader(dl: Any, rank: int, world_size: int, *, train: bool, seed: int = 0) -> DataLoader:
    """A copy of the torch DataLoader `dl` that yields only this rank's share (see the module doc)."""
    if not isinstance(dl, DataLoader) or not isinstance(dl.dataset, Sized):
        raise ConfigError(
            f"cannot shard a {type(dl).__name__} for data-parallel training: use torch DataLoaders over "
            "map-style datasets, or give the data-loaders class a `distributed(rank, world_size)` method "
            "returning per-rank loaders (see graftzoo.learner.sharding)."
        )
    if not isinstance(dl.batch_sampler, BatchSampler) or dl.batch_size is None:
        raise ConfigError(
            "cannot shard a DataLoader with a custom batch_sampler; give the data-loaders class a "
            "`distributed(rank, world_size)` method (see graftzoo.learner.sharding)."
        )
    sampler: Sampler[Any]
    if not isinstance(dl.sampler, (RandomSampler, SequentialSampler)):
        sampler = ShardedSampler(dl.sampler, rank, world_size, pad=train)
    elif train:
        sampler = DistributedSampler(
            dl.dataset, num_replicas=world_size, rank=rank, shuffle=isinstance(dl.sampler, RandomSampler), seed=seed
        )
    else:
        sampler = StridedShard(len(dl.dataset), rank, world_size)
    return DataLoader(
        dl.dataset,
        batch_size=dl.batch_size,
        sampler=sampler,
        num_workers=dl.num_workers,
        collate_fn=dl.collate_fn,
        pin_memory=dl.pin_memory,
        drop_last=dl.drop_last and len(sampler) >= dl.batch_size,
        timeout=dl.timeout,
        worker_init_fn=dl.worker_init_fn,
        generator=dl.generator,
        persistent_workers=dl.persistent_workers,
    )


def shard_loaders(dls: Any, rank: int, world_size: int) -> Any:
    """This rank's loaders: `dls.distributed(rank, world_size)` when defined, else the default above."""
    hook = getattr(dls, "distributed", None)
    if callable(hook):
        return hook(rank, world_size)
    _check_same_length(dls.train, "training")
    seed = _broadcast_int(int(getattr(dls, "seed", 0) or 0) % (2**62))
    train = shard_loader(dls.train, rank, world_size, train=True, seed=seed)
    valid = dls.valid
    if valid is not None:
        _check_same_length(valid, "validation")
        valid = shard_loader(valid, rank, world_size, train=False)
    return ShardedLoaders(dls, train, valid)
