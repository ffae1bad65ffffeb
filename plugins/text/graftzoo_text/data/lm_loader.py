"""Language-model batches as fastai's LMDataLoader: the documents (shuffled each epoch) concatenated
and cut into `bs` contiguous streams; batch k holds positions k*seq_len.. of every stream, so each
batch continues the previous one row by row, and y is x shifted by one token."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from graftzoo.errors import ConfigError


class LMLoader:
    """Iterable of (x, y) LongTensor batches of shape (bs, seq_len) (the last one may be shorter)."""

    def __init__(self, docs: Sequence[np.ndarray], bs: int = 64, seq_len: int = 72, shuffle: bool = False,
                 seed: int | None = None, rank: int = 0, world_size: int = 1) -> None:
        self.docs, self.bs, self.seq_len, self.shuffle = list(docs), bs, seq_len, shuffle
        self.seed, self.rank, self.world_size = seed, rank, world_size
        self.rng = np.random.default_rng(seed)
        total = sum(len(d) for d in self.docs)
        streams = bs * world_size  # under DDP every rank cuts the same `bs * world_size` streams and keeps its own
        self.stream_len = ((total - 1) // streams * streams) // streams if total else 0
        if self.stream_len < 1:
            raise ConfigError(
                f"{total} tokens are too few for {bs} language-model streams; use a smaller bs or more text"
            )
        self.n_batches = -(-self.stream_len // seq_len)

    def __len__(self) -> int:
        return self.n_batches

    def streams(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(x, y) of shape (bs, stream_len) for one epoch: documents in order (shuffled if `shuffle`)."""
        order = self.rng.permutation(len(self.docs)) if self.shuffle else np.arange(len(self.docs))
        tokens = torch.from_numpy(np.concatenate([self.docs[i] for i in order]).astype(np.int64))
        streams = self.bs * self.world_size
        n = streams * self.stream_len
        x, y = tokens[:n].view(streams, -1), tokens[1:n + 1].view(streams, -1)
        return (x, y) if self.world_size == 1 else (x[self.rank::self.world_size], y[self.rank::self.world_size])

    def shard(self, rank: int, world_size: int) -> LMLoader:
        """This rank's streams under DDP: every rank cuts `bs * world_size` streams from the same epoch
        order (the same `seed` on every rank) and keeps streams `rank, rank + world_size, ...`."""
        if self.shuffle and self.seed is None:
            raise ConfigError("language-model data shuffled under DDP needs a seed: build the loaders with seed=<int> on every rank")
        shard = LMLoader(self.docs, self.bs, self.seq_len, self.shuffle, self.seed, rank, world_size)
        shard.rng = self.rng  # one generator: later fits go on with new epoch orders, alike on every rank
        return shard

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        x, y = self.streams()
        for start in range(0, self.stream_len, self.seq_len):
            yield x[:, start:start + self.seq_len], y[:, start:start + self.seq_len]
