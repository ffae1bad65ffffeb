"""Word tokenization as fastai does it: rules on the raw text, spaCy's blank English tokenizer
(no model download), post-rules on the tokens; whole corpora use every core and a disk cache."""

from __future__ import annotations

import contextlib
import functools
import gc
import multiprocessing
import os
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from graftzoo.errors import ConfigError
from graftzoo_text.rules import (
    DEFAULT_POST_RULES, DEFAULT_RULES, POST_RULES, RULES, SPECIAL_TOKENS, Rule, resolve_rules,
)

WORD_TOKENIZER = "spacy-blank"
_PARALLEL_MIN = 2000  # below this many texts, worker start-up costs more than it saves
_re_span = re.compile(r"\S+|\s+")
_re_other_space = re.compile(r"[^\S ]")  # whitespace other than the space character


def _single_spaced(text: str) -> bool:
    """Whether the only whitespace of `text` is single spaces between words (most texts after the rules)."""
    return "  " not in text and text[:1] != " " and text[-1:] != " " and _re_other_space.search(text) is None


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """The cyclic garbage collector off: building millions of small token lists, it would rescan them
    over and over (nothing built here holds reference cycles)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


@functools.cache
def _spacy_tokenizer(lang: str) -> Any:
    """spaCy's rule-based tokenizer for `lang` (a blank pipeline: nothing to download)."""
    try:
        import spacy
        from spacy.symbols import ORTH
    except ImportError as exc:  # pragma: no cover - spacy is a dependency
        raise ConfigError("graftzoo-text tokenizes with spaCy's blank pipeline: pip install spacy") from exc
    tokenizer: Any = spacy.blank(lang).tokenizer
    for token in SPECIAL_TOKENS:
        tokenizer.add_special_case(token, [{ORTH: token}])
    return tokenizer


class SpacyWords:
    """spaCy's tokenizer, called once per distinct word-span: the same tokens, several times faster.

    spaCy splits a text at spaces and tokenizes each non-space span on its own; the first space of a
    whitespace run ends the previous token, the rest of the run (a newline, extra spaces) is a token,
    and a run at the very start is a token whole. So the distinct spans of a corpus are tokenized in one
    spaCy call, post-rules are applied to them once, and the texts are put back together from a cache.
    """

    _batch = 20000

    def __init__(self, lang: str, post: Sequence[Rule] = ()) -> None:
        self.spacy = _spacy_tokenizer(lang)
        self.post = list(post)
        self.cache: dict[str, list[str]] = {}

    def __call__(self, texts: Sequence[str]) -> list[list[str]]:
        with no_gc():
            plain = [_single_spaced(text) for text in texts]
            spans = [text.split(" ") if simple else _re_span.findall(text) for text, simple in zip(texts, plain)]
            self._learn([s for text in spans for s in text if s and not s.isspace()])
            cache = self.cache
            return [[tok for span in text for tok in cache[span]] if simple else self._assemble(text)
                    for text, simple in zip(spans, plain)]

    def _assemble(self, spans: list[str]) -> list[str]:
        """Tokens of a text with whitespace other than single inner spaces (spaCy's whitespace tokens)."""
        tokens: list[str] = []
        for span in spans:
            if span.isspace():
                rest = span[1:] if span[0] == " " and tokens else span
                if rest:
                    tokens.append(self._post_one(rest))
            else:
                tokens.extend(self.cache[span])
        return tokens

    def _post_one(self, token: str) -> str:
        for rule in self.post:
            token = rule(token)
        return token

    def _learn(self, spans: list[str]) -> None:
        new = list(dict.fromkeys(s for s in spans if s not in self.cache))
        for start in range(0, len(new), self._batch):
            part = new[start:start + self._batch]
            found: list[list[str]] = [[]]
            for token in self.spacy(" ".join(part)):
                found[-1].append(self._post_one(token.text))
                if token.whitespace_:
                    found.append([])
            if len(found) != len(part):  # pragma: no cover - spaCy never joins tokens across a space
                found = [[self._post_one(t.text) for t in self.spacy(span)] for span in part]
            self.cache.update(zip(part, found))
        self.cache.setdefault("", [])


class Tokenizer:
    """fastai's `Tokenizer` with `SpacyTokenizer`: `rules`, then spaCy, then `post_rules`.

    Its state is plain JSON (`state()` / `from_state()`): the language and the rule names.
    """

    def __init__(self, lang: str = "en", rules: Sequence[str] = DEFAULT_RULES,
                 post_rules: Sequence[str] = DEFAULT_POST_RULES) -> None:
        self.lang = lang
        self.rules = list(rules)
        self.post_rules = list(post_rules)
        self._rules = resolve_rules(self.rules, RULES)
        self._post = resolve_rules(self.post_rules, POST_RULES)
        self._words: SpacyWords | None = None

    def state(self) -> dict[str, Any]:
        return {"word_tokenizer": WORD_TOKENIZER, "lang": self.lang, "rules": self.rules, "post_rules": self.post_rules}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Tokenizer:
        if state.get("word_tokenizer", WORD_TOKENIZER) != WORD_TOKENIZER:
            raise ConfigError(f"unknown word tokenizer {state.get('word_tokenizer')!r}; graftzoo-text has {WORD_TOKENIZER!r}")
        return cls(state.get("lang", "en"), state.get("rules", DEFAULT_RULES), state.get("post_rules", DEFAULT_POST_RULES))

    def preprocess(self, text: str) -> str:
        """The text after the rules, before word splitting."""
        for rule in self._rules:
            text = rule(text)
        return text

    def __call__(self, text: str) -> list[str]:
        """The tokens of one text."""
        return self.tokenize([text])[0]

    def tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        """Tokens of each text, in this process."""
        if self._words is None:
            self._words = SpacyWords(self.lang, self._post)
        return self._words([self.preprocess(str(t)) for t in texts])

    def tokenize_all(self, texts: Sequence[str], n_workers: int | None = None) -> list[list[str]]:
        """Tokens of each text, split over `n_workers` processes (default: every core this process may use)."""
        n_workers = n_workers or available_cores()
        if n_workers < 2 or len(texts) < _PARALLEL_MIN:
            return self.tokenize(texts)
        _spacy_tokenizer(self.lang)  # built once here, inherited by forked workers
        size = -(-len(texts) // n_workers)
        chunks = [list(texts[i:i + size]) for i in range(0, len(texts), size)]
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        with ProcessPoolExecutor(n_workers, mp_context=context) as pool:
            parts = list(pool.map(_tokenize_chunk, [self.state()] * len(chunks), chunks))
        return [tokens for part in parts for tokens in part]


def _tokenize_chunk(state: dict[str, Any], texts: list[str]) -> list[list[str]]:
    return Tokenizer.from_state(state).tokenize(texts)


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1
