"""Labels from file names or folders, and the vocab that turns them into class indices."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from graftzoo_vision.data.errors import LabelError
from graftzoo_vision.data.targets import encode_labels, make_vocab

__all__ = ["RegexLabeller", "encode_labels", "label_items", "make_vocab", "parent_label"]


def parent_label(path: Path) -> str:
    """The name of the folder that holds the file (ImageNet-style layout)."""
    return Path(path).parent.name


class RegexLabeller:
    """Label = the first group of `pat` searched in the file NAME (as fastai: the pattern needs a group).

    With `whole_path`, `pat` is searched in the whole path written with '/' (fastai's `from_path_re`).
    """

    def __init__(self, pat: str, whole_path: bool = False) -> None:
        self.pat, self.whole_path = pat, whole_path
        self._regex = re.compile(pat)
        if not self._regex.groups:
            raise LabelError(
                f"the label pattern r'{pat}' has no group, so every file name would be its own class: "
                r"put the label in parentheses, e.g. r'^(.+)_\d+\.png$'"
            )

    def __call__(self, path: Path) -> str:
        name = Path(path).as_posix() if self.whole_path else Path(path).name
        found = self._regex.search(name)
        if found is None:
            raise LabelError(
                f"file {'path' if self.whole_path else 'name'} {name!r} ({str(path)!r}) does not match the label pattern r'{self.pat}'; "
                "fix the pattern (its first group is the label) or leave the file out of fnames."
            )
        return found.group(1)

    def __repr__(self) -> str:
        return f"RegexLabeller({self.pat!r}{', whole_path=True' if self.whole_path else ''})"


def label_items(items: Sequence[Path], label_func: Callable[[Path], Any]) -> list[Any]:
    """Apply `label_func` to every item; a failure names the item and how many others fail too.

    A label is a str or int (a class), a float (regression), or a list/tuple of str/int (tags of
    multi-label data); `graftzoo_vision.data.targets` decides what the whole set of labels means.
    A bool (fastai's `is_cat`) is a class named "False" or "True".
    """
    labels: list[Any] = []
    for i, item in enumerate(items):
        try:
            label = label_func(item)
            if isinstance(label, bool):
                label = str(label)
        except LabelError as err:
            others = sum(1 for rest in items[i + 1 :] if _fails(label_func, rest))
            more = f" ({others} more file(s) fail the same way)" if others else ""
            raise LabelError(f"{err}{more}") from None
        if not _valid_label(label):
            raise LabelError(
                f"label_func returned {label!r} ({type(label).__name__}) for {str(item)!r}; it must return one "
                "label (a str or int class, a float for regression) or a list of str/int tags (multi-label)."
            )
        labels.append(list(label) if isinstance(label, tuple) else label)
    return labels


def _valid_label(label: Any) -> bool:
    if isinstance(label, (list, tuple)):
        return all(isinstance(t, (str, int)) and not isinstance(t, bool) for t in label)
    return isinstance(label, (str, int, float)) and not isinstance(label, bool)


def _fails(label_func: Callable[[Path], str], item: Path) -> bool:
    try:
        label_func(item)
    except LabelError:
        return True
    return False
