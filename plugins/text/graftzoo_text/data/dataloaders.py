"""TextDataLoaders: texts (a DataFrame, a CSV, a folder) -> tokenized, numericalized train/valid loaders."""

from __future__ import annotations

import copy

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from graftzoo.errors import ConfigError
from graftzoo_text.data.classifier_loader import ClassifierLoader
from graftzoo_text.data.lm_loader import LMLoader
from graftzoo_text.preprocessor import TextPreprocessor
from graftzoo_text.token_cache import tokenize_corpus
from graftzoo_text.tokenizer import Tokenizer
from graftzoo_text.vocab import Numericalize

Loader = LMLoader | ClassifierLoader


class TextDataLoaders:
    """`train` and `valid` loaders, the `preprocessor` (tokenizer + vocabulary) and, for classifiers,
    the class names. `vocab` is the token list of a language model and the class names of a classifier
    (what `Learner.predict` labels with); `text_vocab` is always the token list."""

    def __init__(self, train: Loader, valid: Loader | None, preprocessor: TextPreprocessor, is_lm: bool,
                 classes: list[str] | None = None, bs: int = 64, seq_len: int = 72) -> None:
        self.train, self.valid, self.preprocessor, self.is_lm = train, valid, preprocessor, is_lm
        self.classes = classes
        self.bs, self.seq_len = bs, seq_len

    @property
    def text_vocab(self) -> list[str]:
        return self.preprocessor.vocab

    @property
    def vocab(self) -> list[str]:
        return self.text_vocab if self.is_lm or self.classes is None else self.classes

    @property
    def c(self) -> int:
        return len(self.text_vocab) if self.is_lm or self.classes is None else len(self.classes)

    @property
    def pad_idx(self) -> int:
        return self.preprocessor.pad_idx

    def distributed(self, rank: int, world_size: int) -> TextDataLoaders:
        """This rank's share under DDP (graftzoo.learner.sharding's hook): language-model streams are
        sharded by stream (each rank keeps its own contiguous streams, hidden state and all), classifier
        items every `world_size`-th of the sorted order (batches sorted per rank). Same `seed` on every rank."""
        shard = copy.copy(self)
        if isinstance(self.train, LMLoader):
            shard.train = self.train.shard(rank, world_size)
            shard.valid = self.valid.shard(rank, world_size) if isinstance(self.valid, LMLoader) else None
        else:
            shard.train = self.train.shard(rank, world_size, pad=True)
            shard.valid = self.valid.shard(rank, world_size, pad=False) if isinstance(self.valid, ClassifierLoader) else None
        return shard

    # ---- building ------------------------------------------------------------------------------
    @classmethod
    def from_df(cls, df: pd.DataFrame, text_col: int | str = 0, label_col: int | str | None = 1,
                valid_pct: float = 0.2, valid_col: int | str | None = None, is_lm: bool = False,
                text_vocab: Sequence[str] | None = None, seq_len: int = 72, bs: int = 64, val_bs: int | None = None,
                seed: int | None = None, min_freq: int = 3, max_vocab: int = 60000, cache: bool = True,
                tokenizer: Tokenizer | None = None, n_workers: int | None = None) -> TextDataLoaders:
        """Texts from `text_col`, labels from `label_col` (not needed with `is_lm`), validation rows from the
        boolean `valid_col` or a random `valid_pct` (fastai's RandomSplitter, `seed`)."""
        if len(df) == 0:
            raise ConfigError("the DataFrame has no rows: nothing to train on")
        texts = _column(df, text_col).fillna("").astype(str).tolist()
        train_idx, valid_idx = _split(df, valid_pct, valid_col, seed)
        tokenizer = tokenizer or Tokenizer()
        docs_tokens = tokenize_corpus(tokenizer, texts, cache=cache, n_workers=n_workers)
        if text_vocab is None:
            text_vocab = Numericalize.from_tokens((docs_tokens[i] for i in train_idx), min_freq, max_vocab).vocab
        pre = TextPreprocessor(text_vocab, tokenizer, seq_len)
        docs = [pre.num.encode(tokens) for tokens in docs_tokens]
        train_docs, valid_docs = [docs[i] for i in train_idx], [docs[i] for i in valid_idx]
        val_bs = val_bs or bs
        if is_lm:
            train: Loader = LMLoader(train_docs, bs, seq_len, shuffle=True, seed=seed)
            valid: Loader | None = LMLoader(valid_docs, val_bs, seq_len) if valid_docs else None
            return cls(train, valid, pre, True, None, bs, seq_len)
        if label_col is None:
            raise ConfigError("a classifier needs labels: pass label_col=, or is_lm=True for a language model")
        labels = _column(df, label_col).astype(str).to_numpy()
        classes = sorted(set(labels[train_idx].tolist()))
        unseen = sorted(set(labels[valid_idx].tolist()) - set(classes))
        if unseen:
            raise ConfigError(f"validation labels {unseen[:5]} never occur in the training set; check the split")
        index = {c: i for i, c in enumerate(classes)}
        y = np.array([index.get(lbl, 0) for lbl in labels], dtype=np.int64)
        train = ClassifierLoader(train_docs, y[train_idx], bs, seq_len, pre.pad_idx, shuffle=True, drop_last=True, seed=seed)
        valid = ClassifierLoader(valid_docs, y[valid_idx], val_bs, seq_len, pre.pad_idx) if valid_docs else None
        return cls(train, valid, pre, False, classes, bs, seq_len)

    @classmethod
    def from_csv(cls, path: str | Path, csv_fname: str = "labels.csv", header: int | str | None = "infer",
                 delimiter: str | None = None, encoding: str | None = None, **kwargs: Any) -> TextDataLoaders:
        """`from_df` on `path/csv_fname` (pass `encoding="latin-1"` for files that are not UTF-8)."""
        file = Path(path) / csv_fname
        if not file.is_file():
            raise ConfigError(f"no CSV file at {file}")
        options: dict[str, Any] = {"header": header, "encoding": encoding}
        if delimiter is not None:
            options["delimiter"] = delimiter
        return cls.from_df(pd.read_csv(file, **options), **kwargs)

    @classmethod
    def from_folder(cls, path: str | Path, train: str = "train", valid: str = "valid", valid_pct: float | None = None,
                    **kwargs: Any) -> TextDataLoaders:
        """Text files `path/<train|valid>/<label>/*.txt`, labelled by their folder (fastai's layout);
        with `valid_pct`, a random split of all of them instead."""
        root = Path(path)
        rows = []
        for split in (train, valid):
            for file in sorted((root / split).glob("*/*.txt")):
                rows.append((file.read_text(encoding="utf-8"), file.parent.name, split == valid))
        if not rows:
            raise ConfigError(f"no text files under {root}/{train}/<label>/*.txt or {root}/{valid}/<label>/*.txt")
        df = pd.DataFrame(rows, columns=["text", "label", "is_valid"])
        if valid_pct is not None:
            return cls.from_df(df, "text", "label", valid_pct=valid_pct, **kwargs)
        return cls.from_df(df, "text", "label", valid_col="is_valid", **kwargs)

    # ---- using ---------------------------------------------------------------------------------
    def encode_item(self, text: str) -> tuple[torch.Tensor, ...]:
        """One text -> model input with batch dim 1 (what `Learner.predict` feeds the model)."""
        return self.preprocessor.encode([text])

    def test_dl(self, texts: Sequence[str], bs: int | None = None) -> ClassifierLoader:
        """Batches of new texts in the given order (dummy label 0), padded as for training."""
        docs = self.preprocessor.numericalize(list(texts))
        return ClassifierLoader(docs, np.zeros(len(docs), dtype=np.int64), bs or self.bs, self.seq_len,
                                self.pad_idx, sort=False)

    def one_batch(self, train: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        loader = self.train if train or self.valid is None else self.valid
        return next(iter(loader))

    def show_batch(self, max_n: int = 9, trunc_at: int = 150, train: bool = True, show: bool = True) -> pd.DataFrame:
        """A table of up to `max_n` texts of one batch (decoded, cut at `trunc_at` tokens) with their
        labels, or for a language model the input and the target shifted by one."""
        x, y = self.one_batch(train)
        decode = self.preprocessor.decode
        rows: dict[str, list[str]] = {"text": [_trunc(decode(r, raw=True), trunc_at) for r in x[:max_n]]}
        if self.is_lm:
            rows["text_"] = [_trunc(decode(r, raw=True), trunc_at) for r in y[:max_n]]
        else:
            rows["category"] = [self.vocab[int(i)] for i in y[:max_n]]
        table = pd.DataFrame(rows)
        if show:
            with pd.option_context("display.max_colwidth", None, "display.width", 200):
                print(table)
        return table

    def __repr__(self) -> str:
        kind = "language model" if self.is_lm else f"classifier, {len(self.classes or [])} classes"
        return f"TextDataLoaders({kind}, vocab {len(self.text_vocab)}, bs {self.bs}, seq_len {self.seq_len})"


def _column(df: pd.DataFrame, col: int | str) -> pd.Series:
    if isinstance(col, int) and col not in df.columns:
        if not 0 <= col < df.shape[1]:
            raise ConfigError(f"column index {col} is out of range: the DataFrame has {df.shape[1]} columns")
        return df.iloc[:, col]
    if col not in df.columns:
        raise ConfigError(f"no column {col!r}; the DataFrame has {list(df.columns)}")
    return df[col]


def _split(df: pd.DataFrame, valid_pct: float, valid_col: int | str | None, seed: int | None) -> tuple[list[int], list[int]]:
    """(train, valid) row positions: from a boolean column, or fastai's RandomSplitter."""
    if valid_col is not None:
        flags = _column(df, valid_col).astype(bool).to_numpy()
        return np.flatnonzero(~flags).tolist(), np.flatnonzero(flags).tolist()
    if not 0 <= valid_pct < 1:
        raise ConfigError(f"valid_pct must be in [0, 1), got {valid_pct}")
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    perm = torch.randperm(len(df), generator=generator).tolist()
    cut = int(valid_pct * len(df))
    return perm[cut:], perm[:cut]


def _trunc(text: str, n_tokens: int) -> str:
    return " ".join(text.split(" ")[:n_tokens])
