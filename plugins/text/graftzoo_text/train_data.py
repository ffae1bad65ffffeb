"""The `[data]` section graftzoo-text contributes to `graftzoo train` (`kind = "text/csv"`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graftzoo.sdk import check_section
from graftzoo_text.data.dataloaders import TextDataLoaders

_CSV: dict[str, tuple[tuple[type, ...], str]] = {
    "path": ((str,), "a CSV file path (string)"),
    "text_col": ((str, int), "the column holding the texts (name or index)"),
    "label_col": ((str, int), "the column holding the labels (name or index)"),
    "valid_pct": ((float, int), "fraction of rows held out for validation (0 < x < 1)"),
    "valid_col": ((str, int), "a boolean column marking the validation rows"),
    "is_lm": ((bool,), "true: language-model data (no labels)"),
    "seq_len": ((int,), "tokens per BPTT chunk (int)"),
    "min_freq": ((int,), "least count for a token to enter the vocabulary (int)"),
    "encoding": ((str,), 'the file encoding, e.g. "latin-1"'),
}


def text_csv(section: dict[str, Any], *, bs: int, seed: int) -> TextDataLoaders:
    """Texts (and labels) from a CSV file, tokenized with fastai's rules (cached on disk by content)."""
    opts = check_section(section, _CSV, "text/csv", ("path",))
    path = Path(opts.pop("path"))
    return TextDataLoaders.from_csv(path.parent, csv_fname=path.name, bs=bs, seed=seed, **opts)
