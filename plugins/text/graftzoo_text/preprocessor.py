"""TextPreprocessor: raw strings -> padded id batches, with plain-JSON state (input kind `text/tokens`).

A saved head stores its `state()` (tokenizer settings, vocabulary, seq_len); `from_state` checks
every key of it, as a graftzoo.json is untrusted input. The tokenizer rules are names looked up in
graftzoo_text.rules' fixed tables, never code to import.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from graftzoo.errors import ConfigError
from graftzoo.inputs import InputSpec
from graftzoo.preprocessor import Preprocessor
from graftzoo_text.body import MAX_VOCAB
from graftzoo_text.padding import pad_chunks
from graftzoo_text.rules import PAD, POST_RULES, RULES, decode_spec_tokens
from graftzoo_text.token_cache import tokenize_corpus
from graftzoo_text.tokenizer import WORD_TOKENIZER, Tokenizer
from graftzoo_text.vocab import FAKE, Numericalize

KIND = "text/tokens"
STATE_VERSION = 1
STATE_KEYS = {"kind", "version", "tokenizer", "vocab", "seq_len"}
TOKENIZER_KEYS = {"word_tokenizer", "lang", "rules", "post_rules"}
MAX_TOKEN_CHARS = 1000
MAX_SEQ_LEN = 100_000
_LANG = re.compile(r"[a-z]{2,3}")  # a spaCy language code: spacy.lang.<code>, found inside spaCy itself


class TextPreprocessor(Preprocessor):
    """fastai's tokenizer and vocabulary as one object that travels with a model as JSON.

    An item is one string; `encode(texts)` gives `(ids,)`, ids a (B, L) LongTensor padded first in
    `seq_len` chunks (what BPT3C expects).
    """

    kind = KIND

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

    # ---- the input contract -----------------------------------------------------------------
    def input_spec(self) -> InputSpec:
        """What a `text/awd_lstm` body is built for: the vocabulary's size, the padding id, and the
        fingerprint of vocabulary and tokenizer (a trained body only serves ids made the same way)."""
        return InputSpec(KIND, {"vocab_size": len(self.num), "pad_idx": self.pad_idx, "fingerprint": self.fingerprint})

    @property
    def fingerprint(self) -> str:
        """sha256 of the vocabulary and the tokenizer settings (seq_len left out: it does not change the ids)."""
        data = json.dumps({"vocab": self.vocab, "tokenizer": self.tokenizer.state()}, sort_keys=True)
        return "sha256:" + hashlib.sha256(data.encode("utf-8")).hexdigest()

    def state(self) -> dict[str, Any]:
        return {"kind": KIND, "version": STATE_VERSION, "tokenizer": self.tokenizer.state(), "vocab": self.vocab,
                "seq_len": self.seq_len}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TextPreprocessor:
        """The preprocessor `state()` describes; every key is checked (a ConfigError names the bad one)."""
        where = f"the {KIND} preprocessor state"
        _keys(state, STATE_KEYS, where)
        if state["kind"] != KIND or state["version"] != STATE_VERSION:
            raise ConfigError(f"{where} must have kind {KIND!r} and version {STATE_VERSION}, "
                              f"got {str(state['kind'])[:60]!r} and {str(state['version'])[:20]!r}")
        seq_len = state["seq_len"]
        if not isinstance(seq_len, int) or isinstance(seq_len, bool) or not 1 <= seq_len <= MAX_SEQ_LEN:
            raise ConfigError(f"{where}: seq_len must be an int from 1 to {MAX_SEQ_LEN}, got {str(seq_len)[:40]!r}")
        return cls(_vocab(state["vocab"], where), tokenizer_from_state(state["tokenizer"], where), seq_len)

    @classmethod
    def for_model(cls, model: Any) -> TextPreprocessor:
        raise ConfigError(
            "a text/tokens model predicts through the vocabulary it was trained on, and this model has none: train it "
            "on TextDataLoaders (the Learner hands dls.preprocessor to the model), set model.preprocessor = "
            "dls.preprocessor, or load a saved head (it carries its preprocessor)"
        )

    def is_single(self, item: Any) -> bool:
        return isinstance(item, str)

    def encode(self, items: Sequence[Any]) -> tuple[torch.Tensor, ...]:
        """`(ids,)`: a (B, L) LongTensor of the texts, padded first in `seq_len` chunks."""
        bad = next((i for i, t in enumerate(items) if not isinstance(t, str)), None)
        if bad is not None or not items:
            raise ConfigError(f"the text preprocessor takes a non-empty list of strings; item {bad} is a "
                              f"{type(items[bad]).__name__ if bad is not None else 'missing'}")
        return (pad_chunks(self.numericalize(items), self.pad_idx, self.seq_len),)

    # ---- text ---------------------------------------------------------------------------------
    def numericalize(self, texts: Sequence[str], cache: bool = False) -> list[np.ndarray]:
        """The id sequence of each text."""
        return [self.num.encode(doc) for doc in tokenize_corpus(self.tokenizer, texts, cache=cache)]

    def __call__(self, texts: str | Sequence[str]) -> torch.Tensor:
        """A (batch, length) LongTensor, padded first in `seq_len` chunks."""
        return self.encode([texts] if isinstance(texts, str) else list(texts))[0]

    def decode(self, ids: torch.Tensor | Sequence[int], raw: bool = False) -> str:
        """One id sequence back to text (padding dropped; `xxmaj`, `xxup`, ... undone unless `raw`)."""
        values = ids.tolist() if isinstance(ids, torch.Tensor) else list(ids)
        tokens = [t for t in self.num.decode(values) if t != PAD]
        return " ".join(tokens if raw else decode_spec_tokens(tokens))


def tokenizer_from_state(state: Any, where: str) -> Tokenizer:
    """A Tokenizer from its stored state: a known word tokenizer, a spaCy language code, rules by name."""
    _keys(state, TOKENIZER_KEYS, f"{where}: tokenizer")
    if state["word_tokenizer"] != WORD_TOKENIZER:
        raise ConfigError(f"{where}: tokenizer.word_tokenizer must be {WORD_TOKENIZER!r}, got {str(state['word_tokenizer'])[:60]!r}")
    lang = state["lang"]
    if not isinstance(lang, str) or not _LANG.fullmatch(lang) or importlib.util.find_spec(f"spacy.lang.{lang}") is None:
        raise ConfigError(f"{where}: tokenizer.lang must be a language code spaCy has (e.g. 'en'), got {str(lang)[:40]!r}")
    for key, table in (("rules", RULES), ("post_rules", POST_RULES)):
        names = state[key]
        if not isinstance(names, list) or len(names) > 2 * len(table) or not all(isinstance(n, str) for n in names):
            raise ConfigError(f"{where}: tokenizer.{key} must be a list of rule names from {sorted(table)}")
        unknown = [n[:40] for n in names if n not in table]
        if unknown:
            raise ConfigError(f"{where}: tokenizer.{key} names unknown rule(s) {unknown[:5]}; known: {sorted(table)}")
    return Tokenizer(lang, state["rules"], state["post_rules"])


def _vocab(vocab: Any, where: str) -> list[str]:
    if not isinstance(vocab, list) or not 2 <= len(vocab) <= MAX_VOCAB:
        raise ConfigError(f"{where}: vocab must be a list of 2 to {MAX_VOCAB:,} tokens")
    if not all(isinstance(t, str) and 0 < len(t) <= MAX_TOKEN_CHARS for t in vocab):
        raise ConfigError(f"{where}: every vocab token must be a non-empty string of at most {MAX_TOKEN_CHARS} characters")
    real = [t for t in vocab if t != FAKE]
    if len(set(real)) != len(real):
        raise ConfigError(f"{where}: vocab lists a token twice")
    return vocab


def _keys(state: Any, keys: set[str], where: str) -> None:
    if not isinstance(state, dict):
        raise ConfigError(f"{where} must be a JSON object, got {type(state).__name__}")
    missing, unknown = sorted(keys - set(state)), sorted(str(k)[:40] for k in set(state) - keys)
    if missing or unknown:
        raise ConfigError(f"{where} lacks key(s) {missing} / has unknown key(s) {unknown[:5]}; its keys are {sorted(keys)}")
