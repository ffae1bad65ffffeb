"""The ULMFiT recipe (fastai book, chapter 10) as one function: fine-tune a language model on the corpus,
save its encoder, train a classifier on it with gradual unfreezing; timed phase by phase.

Used by `graftzoo demo text` and `bench/bench_text.py --ulmfit` (where fastai runs the same schedule).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

SMALL_AWD_LSTM = {"emb_sz": 100, "n_hid": 256, "n_layers": 2}  # the small AWD-LSTM
UNFREEZE_DIV = 2.6**4  # fastai's slice(lr/2.6**4, lr) for discriminative learning rates


@dataclass
class Schedule:
    """The recipe's sizes and learning rates (fastai chapter 10, scaled down for a small model)."""

    lm_epochs: int = 2
    lm_lr: float = 2e-2
    lm_drop_mult: float = 0.3
    clas_lr: float = 2e-2  # head only; each unfreezing step below halves it
    final_epochs: int = 2  # epochs with everything unfrozen, at clas_lr / 20
    clas_drop_mult: float = 0.5
    bs: int = 64
    seq_len: int = 72
    config: dict[str, Any] = field(default_factory=lambda: dict(SMALL_AWD_LSTM))
    pretrain: bool = True  # False: the same classifier schedule from a random encoder

    def steps(self) -> list[tuple[int, int, float]]:
        """(groups left frozen, epochs, top lr) of each classifier stage: head, -2, -3, all."""
        lr = self.clas_lr
        return [(-1, 1, lr), (-2, 1, lr / 2), (-3, 1, lr / 4), (0, self.final_epochs, lr / 20)]


@dataclass
class RecipeResult:
    """What the recipe measured; times in seconds."""

    accuracy: float
    lm_accuracy: float | None
    tokenize_s: float
    lm_fit_s: float
    clas_fit_s: float
    total_s: float
    lm_tokens: int  # tokens the language model trained on (all epochs)
    clas_texts: int  # texts the classifier trained on (all stages)
    vocab_size: int

    @property
    def lm_tokens_per_s(self) -> float:
        return self.lm_tokens / self.lm_fit_s if self.lm_fit_s else 0.0

    @property
    def clas_texts_per_s(self) -> float:
        return self.clas_texts / self.clas_fit_s

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "lm_tokens_per_s": self.lm_tokens_per_s, "clas_texts_per_s": self.clas_texts_per_s}


def run_ulmfit(df: pd.DataFrame, text_col: str, label_col: str, valid_col: str, workdir: str | Path,
               schedule: Schedule | None = None, seed: int = 0,
               lm_texts: Sequence[str] = ()) -> tuple[Any, RecipeResult]:
    """The classifier Learner and what it measured: LM on the training rows' texts and the unlabelled
    `lm_texts` (validated on the valid rows), encoder saved to `workdir/models/lm_encoder.safetensors`,
    classifier with gradual unfreezing."""
    import torch

    from graftzoo_text.data import TextDataLoaders
    from graftzoo_text.learner import language_model_learner, text_classifier_learner

    s = schedule or Schedule()
    torch.manual_seed(seed)
    start = time.perf_counter()
    lm_df = df[[text_col, valid_col]]
    if len(lm_texts):
        extra = pd.DataFrame({text_col: list(lm_texts), valid_col: False})
        lm_df = pd.concat([lm_df, extra], ignore_index=True)
    dls_lm = TextDataLoaders.from_df(lm_df, text_col=text_col, is_lm=True, valid_col=valid_col, bs=s.bs,
                                     seq_len=s.seq_len, seed=seed)
    tokenize_s = time.perf_counter() - start
    lm_tokens, lm_fit_s, lm_accuracy = 0, 0.0, None
    if s.pretrain:
        lm = language_model_learner(dls_lm, config=s.config, drop_mult=s.lm_drop_mult, weights=None,
                                    path=workdir, quiet=True)
        t0 = time.perf_counter()
        lm.fit_one_cycle(s.lm_epochs, s.lm_lr)
        lm_fit_s = time.perf_counter() - t0
        lm_accuracy = _last_metric(lm.recorder.valid_values)
        lm_tokens = s.lm_epochs * len(dls_lm.train) * s.bs * s.seq_len
        lm.save_encoder("lm_encoder")
    t0 = time.perf_counter()
    dls = TextDataLoaders.from_df(df, text_col=text_col, label_col=label_col, valid_col=valid_col,
                                  text_vocab=dls_lm.text_vocab, bs=s.bs, seq_len=s.seq_len, seed=seed)
    tokenize_s += time.perf_counter() - t0
    learn = text_classifier_learner(dls, config=s.config, drop_mult=s.clas_drop_mult, seq_len=s.seq_len,
                                    weights=None, path=workdir, quiet=True)
    if s.pretrain:
        learn.load_encoder("lm_encoder")
    learn.freeze()
    t0 = time.perf_counter()
    epochs = 0
    for frozen, n_epoch, lr in s.steps():
        learn.freeze_to(frozen)
        learn.fit_one_cycle(n_epoch, slice(lr / UNFREEZE_DIV, lr) if frozen != -1 else lr)
        epochs += n_epoch
    clas_fit_s = time.perf_counter() - t0
    accuracy = _last_metric(learn.recorder.valid_values)
    assert accuracy is not None, "the classifier has no validation set"
    result = RecipeResult(accuracy=accuracy, lm_accuracy=lm_accuracy, tokenize_s=tokenize_s, lm_fit_s=lm_fit_s,
                          clas_fit_s=clas_fit_s, total_s=time.perf_counter() - start, lm_tokens=lm_tokens,
                          clas_texts=epochs * len(dls.train.docs),
                          vocab_size=len(dls_lm.text_vocab))
    return learn, result


def _last_metric(values: list[float | None]) -> float | None:
    """The first metric of the last validation (`[loss, metric, ...]`)."""
    return float(values[1]) if len(values) > 1 and values[1] is not None else None
