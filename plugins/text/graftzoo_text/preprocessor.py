"""TextPreprocessor: raw strings -> padded id batches, with plain-JSON state (input kind `text/tokens`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from graftzoo.errors import ConfigError
from graftzoo_text.padding import pad_chunks
from graftzoo_text.rules import PAD, decode_spec_tokens
from graftzoo_text.token_cache import tokenize_corpus
from graftzoo_text.tokenizer import Tokenizer
from graftzoo_text.vocab import Numericalize

KIND = "text/tokens"


class TextPreprocessor:
    """fastai's tokenizer and vocabulary as one object that travels with a model as JSON."""

    def __init__(self, vocab: Sequence[str], tokenizer: Tokenizer | None = None, seq_len: int = 72) -> None:
        self.tokenizer = tokenizer or Tokenizer()
        self.num = Numericalize(vocab)
        self.seq_len = seq_len
        if PAD not in self.num.o2i:
            raise ConfigError(f"the vocabulary lacks the padding token {PAD!r}")
        self.pad_idx = self.num.o2i[PAD]

    @classmethod
    def fit(cls, texts: Sequence[str], tokenizer: Tokenizer | None = None, min_freq: int = 3,
            max_vocab: int = 60000, seq_len: int = 72) -> TextPreprocessor:
        """Tokenize `texts` and build fastai's vocabulary from them."""
        tokenizer = tokenizer or Tokenizer()
        docs = tokenize_corpus(tokenizer, texts)
        return cls(Numericalize.from_tokens(docs, min_freq, max_vocab).vocab, tokenizer, seq_len)

    @property
    def vocab(self) -> list[str]:
        return self.num.vocab

    def input_spec(self) -> dict[str, Any]:
        """What a body must be built for: `{"kind": "text/tokens", "vocab_size": N, "pad_idx": 1}`."""
        return {"kind": KIND, "vocab_size": len(self.num), "pad_idx": self.pad_idx}

    def state(self) -> dict[str, Any]:
        return {"kind": KIND, "tokenizer": self.tokenizer.state(), "vocab": self.vocab, "seq_len": self.seq_len}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TextPreprocessor:
        if state.get("kind") != KIND or not isinstance(state.get("vocab"), list):
            raise ConfigError(f"not a {KIND} preprocessor state (needs kind {KIND!r} and a vocab list)")
        return cls(state["vocab"], Tokenizer.from_state(state.get("tokenizer", {})), state.get("seq_len", 72))

    def encode(self, texts: Sequence[str], cache: bool = False) -> list[np.ndarray]:
        """The id sequence of each text."""
        return [self.num.encode(doc) for doc in tokenize_corpus(self.tokenizer, texts, cache=cache)]

    def __call__(self, texts: str | Sequence[str]) -> torch.Tensor:
        """A (batch, length) LongTensor, padded first in `seq_len` chunks."""
        if isinstance(texts, str):
            texts = [texts]
        return pad_chunks(self.encode(texts), self.pad_idx, self.seq_len)

    def decode(self, ids: torch.Tensor | Sequence[int], raw: bool = False) -> str:
        """One id sequence back to text (padding dropped; `xxmaj`, `xxup`, ... undone unless `raw`)."""
        values = ids.tolist() if isinstance(ids, torch.Tensor) else list(ids)
        tokens = [t for t in self.num.decode(values) if t != PAD]
        return " ".join(tokens if raw else decode_spec_tokens(tokens))
