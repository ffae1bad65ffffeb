"""Labels from file names or folders, and the vocab that turns them into class indices."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import torch

from graftzoo_vision.data.errors import LabelError


def parent_label(path: Path) -> str:
    """The name of the folder that holds the file (ImageNet-style layout)."""
    return Path(path).parent.name


class RegexLabeller:
    """Label = the first group of `pat` searched in the file NAME (as fastai: the pattern needs a group)."""

    def __init__(self, pat: str) -> None:
        self.pat = pat
        self._regex = re.compile(pat)
        if not self._regex.groups:
            raise LabelError(
                f"the label pattern r'{pat}' has no group, so every file name would be its own class: "
                r"put the label in parentheses, e.g. r'^(.+)_\d+\.png$'"
            )

    def __call__(self, path: Path) -> str:
        name = Path(path).name
        found = self._regex.search(name)
        if found is None:
            raise LabelError(
                f"file name {name!r} ({str(path)!r}) does not match the label pattern r'{self.pat}'; "
                "fix the pattern (its first group is the label) or leave the file out of fnames."
            )
        return found.group(1)

    def __repr__(self) -> str:
        return f"RegexLabeller({self.pat!r})"


def label_items(items: Sequence[Path], label_func: Callable[[Path], str]) -> list[str]:
    """Apply `label_func` to every item; a failure names the item and how many others fail too."""
    labels: list[str] = []
    for i, item in enumerate(items):
        try:
            label = label_func(item)
        except LabelError as err:
            others = sum(1 for rest in items[i + 1 :] if _fails(label_func, rest))
            more = f" ({others} more file(s) fail the same way)" if others else ""
            raise LabelError(f"{err}{more}") from None
        if not isinstance(label, (str, int)) or isinstance(label, bool):
            raise LabelError(
                f"label_func returned {label!r} ({type(label).__name__}) for {str(item)!r}; it must return one label "
                "(a str or int). Several labels per image (multi-label) are not taken by this constructor."
            )
        labels.append(str(label))
    return labels


def _fails(label_func: Callable[[Path], str], item: Path) -> bool:
    try:
        label_func(item)
    except LabelError:
        return True
    return False


def make_vocab(labels: Iterable[str], vocab: Sequence[str] | None = None) -> list[str]:
    """The sorted distinct labels, or `vocab` as given (checked to cover every label)."""
    seen = set(labels)
    if vocab is None:
        return sorted(seen)
    missing = sorted(seen - set(vocab))
    if missing:
        raise LabelError(
            f"labels {missing[:5]} are not in the vocab you passed ({len(vocab)} classes); "
            "add them to vocab or pass vocab=None to build it from the data."
        )
    return list(vocab)


def encode_labels(labels: Sequence[str], vocab: Sequence[str]) -> torch.Tensor:
    """Class indices (int64) of `labels` in `vocab`."""
    index = {name: i for i, name in enumerate(vocab)}
    return torch.tensor([index[label] for label in labels], dtype=torch.long)
