"""TabularDataLoaders: a table preprocessed once into tensors, batched by slicing."""

from __future__ import annotations

import copy

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from graftzoo_tabular.batches import TensorBatches
from graftzoo_tabular.columns import infer_columns
from graftzoo_tabular.errors import ConfigError, TableError
from graftzoo_tabular.preprocessor import DEFAULT_PROCS, ProcLike, TabularPreprocessor


class TabularDataLoaders:
    """`.train` and `.valid` batches `(x_cat, x_cont, y)` of one preprocessed table.

    Build it with `from_df` or `from_csv`. The tensors live on `device` (the default: CUDA when
    available), so a batch is a few slices with nothing copied from the host.
    """

    def __init__(
        self,
        df: pd.DataFrame,
        preprocessor: TabularPreprocessor,
        train_idx: Sequence[int],
        valid_idx: Sequence[int],
        *,
        bs: int = 64,
        val_bs: int | None = None,
        seed: int = 0,
        device: str | torch.device | None = None,
    ) -> None:
        if bs < 1:
            raise ConfigError(f"bs must be at least 1, got {bs}")
        self.preprocessor, self.bs, self.val_bs = preprocessor, bs, val_bs or bs
        self.device = torch.device(device) if device is not None else _default_device()
        self.seed = seed
        x_cat, x_cont = preprocessor(df)
        y = preprocessor.encode_targets(df)
        train, valid = torch.as_tensor(list(train_idx), dtype=torch.long), torch.as_tensor(list(valid_idx), dtype=torch.long)
        tensors = [t.to(self.device) for t in (x_cat, x_cont, y)]
        self.train = TensorBatches(
            [t[train.to(self.device)] for t in tensors], bs, shuffle=True, drop_last=len(train) >= bs,
            generator=torch.Generator().manual_seed(seed),
        )
        self.valid = TensorBatches([t[valid.to(self.device)] for t in tensors], self.val_bs) if len(valid) else None
        self.train_idx, self.valid_idx = train.tolist(), valid.tolist()

    # ---- constructors -------------------------------------------------------------------------
    @classmethod
    def from_df(
        cls,
        df: pd.DataFrame,
        y_names: str | Sequence[str],
        cat_names: Sequence[str] | None = None,
        cont_names: Sequence[str] | None = None,
        procs: Sequence[ProcLike] = DEFAULT_PROCS,
        valid_idx: Sequence[int] | None = None,
        valid_pct: float = 0.2,
        seed: int | None = None,
        bs: int = 64,
        y_block: str | None = None,
        val_bs: int | None = None,
        device: str | torch.device | None = None,
        features: TabularPreprocessor | None = None,
    ) -> TabularDataLoaders:
        """fastai's `TabularDataLoaders.from_df`.

        `valid_idx` are row positions (0..len(df)-1); without them a random `valid_pct` of the rows
        (seeded by `seed`) is held out. When `cat_names` and `cont_names` are both omitted they are
        inferred from dtypes (see `infer_columns`); when one is given, the other defaults to [].
        `features=other_dls.preprocessor` reuses that table's columns and fitted procs (only the
        target is fitted here): a new head for another target on a body trained with them.
        """
        if not isinstance(df, pd.DataFrame):
            raise TableError(f"from_df takes a pandas DataFrame, got {type(df).__name__}")
        if len(df) == 0:
            raise TableError("the table has no rows; pass a DataFrame with at least one training row")
        y_list = [y_names] if isinstance(y_names, str) else list(y_names)
        if not y_list:
            raise ConfigError("y_names is empty; name the target column(s)")
        for group, names in (("cat_names", cat_names), ("cont_names", cont_names)):
            if isinstance(names, str):
                raise ConfigError(f"{group} must be a list of column names, got the string {names!r}; write [{names!r}]")
        if features is not None:
            if cat_names is not None or cont_names is not None or tuple(procs) != tuple(DEFAULT_PROCS):
                raise ConfigError("features= brings its own columns and procs: leave cat_names, cont_names and procs out")
            seed = int(torch.randint(0, 2**62, (1,)).item()) if seed is None else int(seed)
            train_idx, valid = split_rows(len(df), valid_idx, valid_pct, seed)
            pre = features.with_target(df, y_list, y_block)
            return cls(df, pre, train_idx, valid, bs=bs, val_bs=val_bs, seed=seed, device=device)
        if cat_names is None and cont_names is None:
            absent = [n for n in y_list if n not in df.columns]
            if absent:
                raise TableError(f"y_names names column(s) {absent} that the table lacks; its columns are {list(df.columns)}")
            cat_names, cont_names = infer_columns(df, y_list)
        seed = int(torch.randint(0, 2**62, (1,)).item()) if seed is None else int(seed)
        train_idx, valid = split_rows(len(df), valid_idx, valid_pct, seed)
        pre = TabularPreprocessor.fit(
            df, list(cat_names or []), list(cont_names or []), y_list, procs, y_block, train_idx=train_idx
        )
        return cls(df, pre, train_idx, valid, bs=bs, val_bs=val_bs, seed=seed, device=device)

    @classmethod
    def from_csv(cls, path: str | Path, y_names: str | Sequence[str], csv_kwargs: dict[str, Any] | None = None, **kwargs: Any) -> TabularDataLoaders:
        """Read `path` with `pd.read_csv(path, skipinitialspace=True, **csv_kwargs)`, then `from_df(**kwargs)`."""
        try:
            df = pd.read_csv(path, **{"skipinitialspace": True, **(csv_kwargs or {})})
        except FileNotFoundError:
            raise TableError(f"no CSV file at {str(path)!r}") from None
        return cls.from_df(df, y_names, **kwargs)

    # ---- what the Learner uses ----------------------------------------------------------------
    @property
    def c(self) -> int:
        """Outputs the model needs (classes, or target columns)."""
        return self.preprocessor.target.c if self.preprocessor.target is not None else 0

    @property
    def vocab(self) -> list[str] | None:
        """Class names as text (classification), target names (multi-label), None (regression): the
        labels predictions decode to, here and in a saved head."""
        return self.preprocessor.class_names

    @property
    def cat_names(self) -> list[str]:
        return self.preprocessor.input_cat_names

    @property
    def cont_names(self) -> list[str]:
        return self.preprocessor.cont_names

    @property
    def y_names(self) -> list[str]:
        return self.preprocessor.y_names

    @property
    def loaders(self) -> tuple[TensorBatches, TensorBatches | None]:
        return self.train, self.valid

    def __getitem__(self, i: int) -> TensorBatches | None:
        return self.loaders[i]

    def distributed(self, rank: int, world_size: int) -> TabularDataLoaders:
        """This rank's share under DDP (graftzoo.learner.sharding's hook): every `world_size`-th row of
        each epoch's shuffled order, training padded so every rank steps alike, validation not padded.
        Every rank must build the loaders with the same `seed`."""
        shard = copy.copy(self)
        shard.train = self.train.shard(rank, world_size, pad=True)
        shard.valid = self.valid.shard(rank, world_size, pad=False) if self.valid is not None else None
        return shard

    def test_dl(self, df: Any, bs: int | None = None, with_labels: bool | None = None) -> TensorBatches:
        """Batches `(x_cat, x_cont, y)` of new rows, preprocessed as the training rows were. `y` is the
        real target when `df` has every target column (`with_labels` None or True), else zeros."""
        from graftzoo_tabular.preprocessor import as_frame

        frame = as_frame(df)
        x_cat, x_cont = self.preprocessor(frame)
        has_y = bool(self.y_names) and all(n in frame.columns for n in self.y_names)
        if with_labels and not has_y:
            raise TableError(f"with_labels=True but the rows lack target column(s) {self.y_names}")
        if has_y and with_labels is not False:
            y = self.preprocessor.encode_targets(frame)
        else:
            y = torch.zeros(len(frame), dtype=torch.long)
        return TensorBatches([t.to(self.device) for t in (x_cat, x_cont, y)], bs or self.val_bs)

    # ---- looking at the data ------------------------------------------------------------------
    def one_batch(self, train: bool = True) -> tuple[torch.Tensor, ...]:
        dl = self.train if train else self.valid
        if dl is None:
            raise TableError("there is no validation set")
        try:
            return next(iter(dl))
        except StopIteration:
            raise TableError(f"the {'train' if train else 'valid'} set has no full batch; lower bs") from None

    def show_batch(self, max_n: int = 10, train: bool = True, show: bool = True) -> pd.DataFrame:
        """Decoded rows of one batch (category values, un-normalized numbers, target labels); printed and returned."""
        x_cat, x_cont, y = self.one_batch(train)
        rows = self.preprocessor.decode_rows(x_cat[:max_n], x_cont[:max_n])
        target = self.preprocessor.target
        if target is not None:
            labels = target.decode_targets(y[:max_n].cpu())
            if target.kind == "regression" and len(target.y_names) > 1:
                for i, name in enumerate(target.y_names):
                    rows[name] = [row[i] for row in labels]
            else:
                rows["/".join(target.y_names) if target.kind == "multilabel" else target.y_names[0]] = labels
        if show:
            with pd.option_context("display.max_columns", None, "display.width", 200):
                print(rows.to_string(index=False))
        return rows

    def __repr__(self) -> str:
        n_valid = self.valid.n if self.valid is not None else 0
        kind = self.preprocessor.target.kind if self.preprocessor.target is not None else None
        return (
            f"TabularDataLoaders(train={self.train.n}, valid={n_valid}, cat={len(self.cat_names)}, "
            f"cont={len(self.cont_names)}, target={kind}, c={self.c}, bs={self.bs}, device={self.device})"
        )


def split_rows(n: int, valid_idx: Sequence[int] | None, valid_pct: float, seed: int) -> tuple[list[int], list[int]]:
    """(train, valid) row positions: `valid_idx` as given, else a seeded random `valid_pct` share."""
    if valid_idx is not None:
        valid = sorted({int(i) for i in valid_idx})
        bad = [i for i in valid if not 0 <= i < n]
        if bad:
            raise ConfigError(f"valid_idx holds positions {bad[:5]} outside the table's {n} rows (they are positions, not labels)")
        chosen = set(valid)
        return [i for i in range(n) if i not in chosen], valid
    if not 0.0 <= valid_pct < 1.0:
        raise ConfigError(f"valid_pct must be in [0, 1), got {valid_pct}; 0.2 holds out a fifth of the rows")
    n_valid = round(n * valid_pct)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    return sorted(order[n_valid:]), sorted(order[:n_valid])


def _default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
