"""Find image files under a folder, in a stable (sorted) order."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from graftzoo_vision.data.errors import DataError

IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm"}
)


def get_image_files(path: str | Path, recurse: bool = True, folders: Sequence[str] | None = None) -> list[Path]:
    """Image files under `path` (only under its subfolders `folders` when given), sorted."""
    root = Path(path)
    if not root.is_dir():
        raise DataError(f"{str(root)!r} is not a folder; pass the folder that holds your images.")
    roots = [root / f for f in folders] if folders else [root]
    found: list[Path] = []
    for base in roots:
        if not base.is_dir():
            continue
        walker: Iterable[Path] = base.rglob("*") if recurse else base.iterdir()
        found.extend(p for p in walker if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
    return sorted(found)


def resolve_files(path: str | Path, fnames: Iterable[str | Path] | None) -> list[Path]:
    """`fnames` made absolute against `path` (all image files under `path` when None)."""
    if fnames is None:
        files = get_image_files(path)
    else:
        files = [p if p.is_absolute() or p.exists() else Path(path) / p for p in map(Path, fnames)]
    if not files:
        raise DataError(f"no image files found under {str(path)!r}; check the path and the file extensions.")
    return files
