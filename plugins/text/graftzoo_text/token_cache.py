"""Tokenized corpora cached on disk by content: a second run on the same texts is instant.

A cache entry is a folder named by the SHA-256 of the tokenizer state and the texts, holding
`tokens.json` (the distinct tokens), `ids.npy` (int32, every token of every text in order) and
`offsets.npy` (int64, where each text starts). Nothing executable; folders appear atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from graftzoo_text.tokenizer import Tokenizer, no_gc

FORMAT = "graftzoo-text.tokens/1"


def cache_root() -> Path:
    """`$GRAFTZOO_HOME/text-tokens` (GRAFTZOO_HOME defaults to `~/.cache/graftzoo`)."""
    from graftzoo.registry.cache import graftzoo_home

    return graftzoo_home() / "text-tokens"


def corpus_key(tokenizer: Tokenizer, texts: Sequence[str]) -> str:
    digest = hashlib.sha256(json.dumps([FORMAT, tokenizer.state()]).encode())
    for text in texts:
        encoded = str(text).encode("utf-8", "surrogatepass")
        digest.update(len(encoded).to_bytes(8, "little"))
        digest.update(encoded)
    return digest.hexdigest()


def tokenize_corpus(tokenizer: Tokenizer, texts: Sequence[str], cache: bool = True,
                    n_workers: int | None = None) -> list[list[str]]:
    """Tokens of every text, read from the disk cache when these texts were tokenized before."""
    if not cache:
        return tokenizer.tokenize_all(texts, n_workers)
    folder = cache_root() / corpus_key(tokenizer, texts)
    found = _read(folder, len(texts))
    if found is not None:
        return found
    tokens = tokenizer.tokenize_all(texts, n_workers)
    _write(folder, tokens)
    return tokens


def _read(folder: Path, n_texts: int) -> list[list[str]] | None:
    """The cached tokens, or None when absent or unreadable (a damaged entry is rebuilt, never trusted)."""
    try:
        names = json.loads((folder / "tokens.json").read_text(encoding="utf-8"))
        ids = np.load(folder / "ids.npy", allow_pickle=False)
        offsets = np.load(folder / "offsets.npy", allow_pickle=False)
    except (OSError, ValueError):
        return None
    if len(offsets) != n_texts + 1 or offsets[-1] != len(ids) or (len(ids) and ids.max() >= len(names)):
        return None
    with no_gc():
        words = np.array(names, dtype=object)[ids].tolist()
        bounds = offsets.tolist()
        return [words[a:b] for a, b in zip(bounds, bounds[1:])]


def _write(folder: Path, tokens: list[list[str]]) -> None:
    index: dict[str, int] = {}
    ids = np.fromiter((index.setdefault(t, len(index)) for doc in tokens for t in doc), dtype=np.int32)
    offsets = np.zeros(len(tokens) + 1, dtype=np.int64)
    np.cumsum([len(doc) for doc in tokens], out=offsets[1:])
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        (tmp / "tokens.json").write_text(json.dumps(list(index)), encoding="utf-8")
        np.save(tmp / "ids.npy", ids)
        np.save(tmp / "offsets.npy", offsets)
        if folder.exists():  # a damaged entry that _read refused
            shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not folder.exists():
            raise
