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
                 seed: int | None = None) -> None:
        self.docs, self.bs, self.seq_len, self.shuffle = list(docs), bs, seq_len, shuffle
        self.rng = np.random.default_rng(seed)
        total = sum(len(d) for d in self.docs)
        self.stream_len = ((total - 1) // bs * bs) // bs if total else 0
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
        n = self.bs * self.stream_len
        return tokens[:n].view(self.bs, -1), tokens[1:n + 1].view(self.bs, -1)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        x, y = self.streams()
        for start in range(0, self.stream_len, self.seq_len):
            yield x[:, start:start + self.seq_len], y[:, start:start + self.seq_len]
