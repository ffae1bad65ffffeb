"""fastai's `pad_input_chunk`: padding first, in whole chunks of `seq_len`, so that every text
starts on a chunk boundary (what BPT3C needs), the remainder of the padding at the end."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


def pad_chunks(seqs: Sequence[np.ndarray], pad_idx: int = 1, seq_len: int = 72, pad_first: bool = True) -> torch.Tensor:
    """A (len(seqs), max length) LongTensor of the id sequences, padded fastai's way."""
    max_len = max((len(s) for s in seqs), default=0)
    out = np.full((len(seqs), max_len), pad_idx, dtype=np.int64)
    for row, seq in enumerate(seqs):
        gap = max_len - len(seq)
        start = (gap // seq_len) * seq_len if pad_first else 0
        out[row, start:start + len(seq)] = seq
    return torch.from_numpy(out)


def chunk_align(x: torch.Tensor, pad_idx: int, bptt: int) -> torch.Tensor:
    """The same batch laid out as `pad_chunks` would: each row's tokens (padding assumed only before
    or after them) moved to start on a `bptt` boundary. A batch already laid out so comes back equal."""
    keep = x != pad_idx
    lengths = keep.sum(1)
    width = int(lengths.max()) if len(x) else 0
    first = torch.where(keep.any(1), keep.int().argmax(1), torch.zeros_like(lengths))
    lead = ((width - lengths) // bptt) * bptt
    pos = torch.arange(width, device=x.device)[None, :]
    inside = (pos >= lead[:, None]) & (pos < (lead + lengths)[:, None])
    src = (first[:, None] + pos - lead[:, None]).clamp(0, max(x.shape[1] - 1, 0))
    return torch.where(inside, x.gather(1, src), torch.full_like(src, pad_idx))
