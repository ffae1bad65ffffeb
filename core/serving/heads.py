"""The heads a predict server keeps loaded, reloaded when their folder's files change."""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

KEEP = 4  # heads kept loaded; the least recently used one goes first


class LoadedHeads:
    """`load(ref)`: `load_head(ref)`, from memory while the saved folder's files are unchanged."""

    def __init__(self, keep: int = KEEP) -> None:
        self.keep = keep
        self._heads: OrderedDict[str, tuple[tuple[Any, ...], Any]] = OrderedDict()

    def load(self, ref: str | os.PathLike[str]) -> Any:
        from graftzoo.artifacts.load import load_head
        from graftzoo.artifacts.locate import located

        with located(ref) as folder:  # one pull of a hub reference; a copy that fails to load leaves the HF cache
            key, stamp = str(folder.resolve()), _stamp(folder)
            cached = self._heads.get(key)
            if cached is not None and cached[0] == stamp:
                self._heads.move_to_end(key)
                return cached[1]
            model = load_head(folder)
        self._heads[key] = (stamp, model)
        self._heads.move_to_end(key)
        while len(self._heads) > self.keep:
            self._heads.popitem(last=False)
        return model

    def folders(self) -> list[str]:
        return list(self._heads)


def _stamp(folder: Path) -> tuple[Any, ...]:
    """What changes when any file of the folder is rewritten: name, inode, size and mtime of each."""
    entries = []
    for path in sorted(folder.iterdir()):
        stat = path.stat()
        entries.append((path.name, stat.st_ino, stat.st_size, stat.st_mtime_ns))
    return tuple(entries)
