"""Run under torchrun by test_plugins_ddp.py: a table, a text classifier and a language model train
data-parallel; each rank writes `<folder>/rank<r>.json` with its weights' checksum and last epoch's numbers."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pandas as pd
import torch
from sklearn.datasets import load_breast_cancer

from graftzoo_tabular import TabularDataLoaders, tabular_learner
from graftzoo_text import TextDataLoaders, language_model_learner, text_classifier_learner

TINY = {"emb_sz": 16, "n_hid": 24, "n_layers": 2}


def checksum(model: torch.nn.Module) -> float:
    return float(sum(p.detach().double().sum() for p in model.parameters()))


def main() -> None:
    out: dict[str, object] = {"rank": int(os.environ["RANK"])}
    torch.manual_seed(0)
    table = load_breast_cancer(as_frame=True).frame.iloc[:200, [0, 1, 2, 3, -1]]
    dls = TabularDataLoaders.from_df(table, "target", valid_pct=0.25, seed=0, bs=16)
    learn = tabular_learner(dls, layers=[16], quiet=True)
    learn.fit_one_cycle(2, 1e-2)
    out["table"] = [checksum(learn.model), *map(float, learn.recorder.values[-1])]
    good = ["a lovely day", "great food and lovely people", "what a great film", "lovely and great"]
    bad = ["a terrible day", "awful food and terrible people", "what an awful film", "terrible and awful"]
    texts = pd.DataFrame([(t, "pos") for t in good] * 6 + [(t, "neg") for t in bad] * 6, columns=["text", "label"])
    dls = TextDataLoaders.from_df(texts, "text", "label", valid_pct=0.25, seed=0, bs=8, seq_len=8, min_freq=1, cache=False)
    learn = text_classifier_learner(dls, "text/awd_lstm", config=TINY, weights=None, quiet=True)
    learn.fit_one_cycle(2, 1e-2)
    out["classifier"] = [checksum(learn.model), *map(float, learn.recorder.values[-1])]
    lm = TextDataLoaders.from_df(texts, "text", is_lm=True, valid_pct=0.25, seed=0, bs=2, seq_len=4, min_freq=1, cache=False)
    learn = language_model_learner(lm, "text/awd_lstm", config=TINY, weights=None, quiet=True)
    learn.fit(1, 1e-2)
    out["lm"] = [checksum(learn.model), *map(float, learn.recorder.values[-1])]
    (Path(sys.argv[1]) / f"rank{out['rank']}.json").write_text(json.dumps(out))


if __name__ == "__main__":
    main()
