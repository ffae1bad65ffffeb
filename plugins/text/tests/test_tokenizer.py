"""Word splits as fastai's blank spaCy pipeline makes them, the JSON state, the disk cache, all cores."""

from pathlib import Path

import numpy as np
import pytest

from graftzoo.errors import ConfigError
from graftzoo_text.token_cache import cache_root, corpus_key, tokenize_corpus
from graftzoo_text.tokenizer import SpacyWords, Tokenizer, _spacy_tokenizer


def test_fastai_examples() -> None:
    tok = Tokenizer()
    assert tok("This isn't the easiest text.") == ["xxbos", "xxmaj", "this", "is", "n't", "the", "easiest", "text", "."]
    assert tok("This is a text") == ["xxbos", "xxmaj", "this", "is", "a", "text"]


def test_contractions_and_punctuation() -> None:
    assert Tokenizer()("I can't, won't: we're gonna well-known #tag!?") == [
        "xxbos", "i", "ca", "n't", ",", "wo", "n't", ":", "we", "'re", "gon", "na", "well", "-", "known",
        "#", "tag", "!", "?",
    ]


def test_rules_run_before_splitting() -> None:
    assert Tokenizer()("WOW sooooo good good good good") == [
        "xxbos", "xxup", "wow", "s", "xxrep", "5", "o", "xxwrep", "4", "good",
    ]


@pytest.mark.parametrize("text", [
    "a\nb", "a \n b", "x  y", "tabs\tand\r\nreturns", "url http://t.co/ab.c?x=1 end", "emoji :) :-( <3",
    "U.S. e.g. 3.5% $5 1,000 a,b", "\"quoted\" (paren) [br] {c}", "café naïve — dash – x", "",
    " lead", "  lead two", "trail ", " \n both \t", "\nfirst",
])
def test_word_splits_equal_spacy_called_per_text(text: str) -> None:
    """SpacyWords tokenizes each distinct span once; the result must equal spaCy on the whole text."""
    spacy_tok = _spacy_tokenizer("en")
    assert SpacyWords("en")([text, "warm " + text]) == [[t.text for t in spacy_tok(s)] for s in (text, "warm " + text)]


def test_state_is_json_and_rebuilds() -> None:
    tok = Tokenizer(rules=["lowercase"])
    again = Tokenizer.from_state(tok.state())
    assert again.state() == tok.state() and again("Hi There") == ["xxbos", "hi", "there"]
    with pytest.raises(ConfigError, match="unknown text rule"):
        Tokenizer(rules=["os.system"])


def test_corpus_cache_is_reused_and_survives_damage(graftzoo_home: Path) -> None:
    tok = Tokenizer()
    texts = ["Hello there", "A second TEXT", "x"]
    first = tokenize_corpus(tok, texts)
    folder = cache_root() / corpus_key(tok, texts)
    assert (folder / "ids.npy").is_file() and (folder / "tokens.json").is_file()
    assert np.load(folder / "offsets.npy").tolist()[-1] == sum(len(t) for t in first)
    (folder / "tokens.json").write_text('["only"]')  # damaged: must be rebuilt, not trusted
    assert tokenize_corpus(tok, texts) == first
    assert tokenize_corpus(tok, texts) == tok.tokenize(texts)
    assert corpus_key(tok, texts) != corpus_key(tok, texts[:2] + ["y"])
    assert corpus_key(tok, texts) != corpus_key(Tokenizer(rules=["lowercase"]), texts)


def test_parallel_equals_serial() -> None:
    texts = [f"Text number {i} is HERE, isn't it? {'ha ' * (i % 5)}" for i in range(2500)]
    tok = Tokenizer()
    assert tok.tokenize_all(texts, n_workers=2) == tok.tokenize(texts)
