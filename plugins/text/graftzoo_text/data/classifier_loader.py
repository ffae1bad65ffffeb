"""Classifier batches as fastai's SortedDL: texts sorted by length (within chunks of 50 batches when
shuffled), padded first in `seq_len` chunks, so BPT3C wastes little work on padding."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from graftzoo.errors import ConfigError
from graftzoo_text.padding import pad_chunks


class ClassifierLoader:
    """Iterable of (ids, label) batches: ids a (bs, length) LongTensor, label a LongTensor (bs,)."""

    def __init__(self, docs: Sequence[np.ndarray], labels: np.ndarray, bs: int = 64, seq_len: int = 72,
                 pad_idx: int = 1, shuffle: bool = False, drop_last: bool = False, sort: bool = True,
                 seed: int | None = None) -> None:
        self.docs, self.labels = list(docs), np.asarray(labels)
        self.bs, self.seq_len, self.pad_idx = bs, seq_len, pad_idx
        self.shuffle, self.drop_last, self.sort = shuffle, drop_last, sort
        self.lengths = np.array([len(d) for d in self.docs], dtype=np.int64)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.rank, self.world_size, self.pad = 0, 1, False

    def shard(self, rank: int, world_size: int, pad: bool) -> ClassifierLoader:
        """This rank's share under DDP: every `world_size`-th item of each epoch's sorted order (the same
        `seed` on every rank), so each rank's batches stay sorted by length; with `pad` (training) every
        rank gets as many items as the first."""
        if self.shuffle and self.seed is None:
            raise ConfigError("classifier data shuffled under DDP needs a seed: build the loaders with seed=<int> on every rank")
        shard = ClassifierLoader(self.docs, self.labels, self.bs, self.seq_len, self.pad_idx, self.shuffle,
                                 self.drop_last, self.sort, self.seed)
        shard.rank, shard.world_size, shard.pad = rank, world_size, pad
        shard.rng = self.rng  # one generator: later fits go on with new epoch orders, alike on every rank
        return shard

    def items(self) -> int:
        """Items this rank sees per epoch."""
        n = len(self.docs)
        if self.world_size == 1:
            return n
        return -(-n // self.world_size) if self.pad else len(range(self.rank, n, self.world_size))

    def __len__(self) -> int:
        n = self.items()
        return n // self.bs if self.drop_last else -(-n // self.bs)

    def order(self) -> np.ndarray:
        """Item order of one epoch: the whole set's (`sorted_order`), this rank's share of it under DDP."""
        full = self.sorted_order()
        if self.world_size == 1:
            return full
        if self.pad:
            total = -(-len(full) // self.world_size) * self.world_size
            full = np.concatenate([full, np.resize(full, total - len(full))])
        return full[self.rank::self.world_size]

    def sorted_order(self) -> np.ndarray:
        """Item order of one epoch (fastai's SortedDL.get_idxs / shuffle_fn)."""
        n, bs = len(self.docs), self.bs
        if not self.sort:
            return np.arange(n)
        key = -self.lengths
        if not self.shuffle:
            return np.argsort(key, kind="stable")
        idxs = self.rng.permutation(n)
        longest = int(np.argmax(self.lengths))
        at = int(np.where(idxs == longest)[0][0])
        idxs[0], idxs[at] = idxs[at], idxs[0]  # the longest text first: out-of-memory shows at once
        chunk = bs * 50
        idxs = np.concatenate([c[np.argsort(key[c], kind="stable")] for c in np.split(idxs, range(chunk, n, chunk))])
        batches = np.split(idxs, range(bs, n, bs))
        if len(batches) > 2:
            middle = [batches[i] for i in self.rng.permutation(np.arange(1, len(batches) - 1))]
            batches = [batches[0], *middle, batches[-1]]
        return np.concatenate(batches)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = self.order()
        stop = len(self) * self.bs
        for start in range(0, min(stop, len(order)), self.bs):
            idx = order[start:start + self.bs]
            yield (pad_chunks([self.docs[i] for i in idx], self.pad_idx, self.seq_len),
                   torch.from_numpy(self.labels[idx].astype(np.int64)))
