"""`summary(source, ...)`: build image loaders from a folder, file names or tensors and walk through them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from graftzoo_vision.data.loaders import ImageDataLoaders


def summary(
    source: str | Path | torch.Tensor,
    *,
    labels: torch.Tensor | Sequence[int | str] | None = None,
    pat: str | None = None,
    label_func: Callable[[str], Any] | None = None,
    bs: int = 4,
    show: bool = True,
    **kwargs: Any,
) -> str:
    """Like fastai's `DataBlock.summary(source)`: tensors need `labels`; a folder is labelled by `pat`,
    `label_func` (given the file name, as `from_name_func`) or (neither) its class subfolders. Other keywords
    go to the matching constructor."""
    if isinstance(source, torch.Tensor):
        dls = ImageDataLoaders.from_tensors(source, labels if labels is not None else [0] * len(source), **kwargs)
    elif pat is not None:
        dls = ImageDataLoaders.from_name_re(source, kwargs.pop("fnames", None), pat, **kwargs)
    elif label_func is not None:
        dls = ImageDataLoaders.from_name_func(source, kwargs.pop("fnames", None), label_func, **kwargs)
    else:
        dls = ImageDataLoaders.from_folder(source, **kwargs)
    return dls.summary(bs=bs, show=show)
