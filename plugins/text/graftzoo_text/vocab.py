"""fastai's `Numericalize`: a vocabulary in fastai's order, padded to a multiple of 8."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from graftzoo.errors import ConfigError
from graftzoo_text.rules import SPECIAL_TOKENS

FAKE = "xxfake"


def make_vocab(count: Counter[str], min_freq: int = 3, max_vocab: int = 60000,
               special_toks: Sequence[str] = SPECIAL_TOKENS) -> list[str]:
    """fastai's `make_vocab`: special tokens first, then the most common tokens seen at least
    `min_freq` times (ties in order of first appearance), cut at `max_vocab`, then `xxfake`
    fillers up to the next multiple of 8 (fastai adds 8 when the size is already a multiple)."""
    vocab = [tok for tok, n in count.most_common(max_vocab) if n >= min_freq]
    for tok in reversed(special_toks):
        if tok in vocab:
            vocab.remove(tok)
        vocab.insert(0, tok)
    vocab = vocab[:max_vocab]
    return vocab + [FAKE] * (8 - len(vocab) % 8)


class Numericalize:
    """Tokens <-> ids over a fixed vocabulary; unknown tokens map to 0 (`xxunk`)."""

    def __init__(self, vocab: Sequence[str]) -> None:
        if len(vocab) < 2 or vocab[0] != SPECIAL_TOKENS[0]:
            raise ConfigError(f"a text vocabulary must start with {SPECIAL_TOKENS[0]!r} (id 0); got {list(vocab[:3])}")
        self.vocab = list(vocab)
        self.o2i = {tok: i for i, tok in enumerate(self.vocab) if tok != FAKE}

    @classmethod
    def from_tokens(cls, docs: Iterable[Sequence[str]], min_freq: int = 3, max_vocab: int = 60000) -> Numericalize:
        """Count the tokens of `docs` in order (fastai's tie order) and build the vocabulary."""
        return cls(make_vocab(Counter(tok for doc in docs for tok in doc), min_freq, max_vocab))

    def __len__(self) -> int:
        return len(self.vocab)

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        get = self.o2i.get
        return np.fromiter((get(tok, 0) for tok in tokens), dtype=np.int64, count=len(tokens))

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.vocab[int(i)] for i in ids]
