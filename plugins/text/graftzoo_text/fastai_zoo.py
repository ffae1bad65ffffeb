"""The `fastai:` weight source: fastai's AWD-LSTM pretrained on Wikitext-103 (`fastai:wt103-fwd`).

The archive comes from fastai's model zoo (`URLs.WT103_FWD`) through graftzoo's download helper
(bounded waits, atomic, GRAFTZOO_OFFLINE honoured), is checked against the size and md5 that fastai
pinned for it (fastai v1's `_checks`: the size and the md5 of the first MiB, the only checksum fastai
ever published for this file), and is converted once: the weights read with `weights_only=True`, the
vocabulary (a pickled list of strings) read opcode by opcode without unpickling, both written as one
graftzoo encoder file, `$GRAFTZOO_HOME/fastai-modelzoo/wt103-fwd.safetensors`. The archive is then
deleted; later uses read the cached file (offline too).

    language_model_learner(dls, weights="fastai:wt103-fwd")   # emb 400, hidden 1152, 3 layers (the defaults)
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from graftzoo.download import download
from graftzoo.errors import WeightsError
from graftzoo.home import graftzoo_home
from graftzoo.spec import ArchSpec
from graftzoo.weights import StateDict, WeightSource, split_ref

FASTAI_MODELZOO = "https://s3.amazonaws.com/fast-ai-modelzoo/"
ARCH = "text/awd_lstm"
MAX_WEIGHTS_BYTES = 2 << 30
MAX_VOCAB_BYTES = 64 << 20


@dataclass(frozen=True)
class ZooArchive:
    """One archive of fastai's model zoo and the check fastai pinned for it."""

    filename: str
    size: int  # bytes of the whole archive
    md5_first_mib: str  # md5 of its first 2**20 bytes (fastai's `_check_file`)
    weights_member: str  # file names inside the archive (in its top folder)
    vocab_member: str


ARCHIVES = {
    "wt103-fwd": ZooArchive("wt103-fwd.tgz", 105067061, "7d1114cd9684bf9d1ca3c9f6a54da6f9", "lstm_fwd.pth", "itos_wt103.pkl"),
}


def fastai_check(path: Path) -> tuple[int, str]:
    """(size, md5 of the first MiB) of `path`: what fastai checks a download against."""
    with open(path, "rb") as f:
        head = f.read(1 << 20)
    return path.stat().st_size, hashlib.md5(head, usedforsecurity=False).hexdigest()


def verify_archive(path: Path, archive: ZooArchive) -> None:
    """A WeightsError (the file deleted) unless `path` has the size and md5 fastai pinned for `archive`."""
    actual = fastai_check(path)
    if actual != (archive.size, archive.md5_first_mib):
        path.unlink(missing_ok=True)
        raise WeightsError(
            f"{archive.filename} is not fastai's file: size {actual[0]} and md5 of the first MiB {actual[1]}, "
            f"fastai pinned {archive.size} and {archive.md5_first_mib}. It was deleted; try again later."
        )


def convert_zoo_archive(path: str | Path, out: str | Path, weights_member: str = "lstm_fwd.pth",
                        vocab_member: str = "itos_wt103.pkl") -> Path:
    """fastai's model-zoo `.tgz` at `path` (an AWD-LSTM `.pth` and its pickled vocabulary) as a graftzoo
    encoder file at `out`. Nothing is extracted to disk and nothing in the archive is unpickled."""
    import torch

    from graftzoo_text.fastai_weights import convert_fastai_state
    from graftzoo_text.pickled_tokens import read_token_list

    path = Path(path)
    try:
        with tarfile.open(path, "r:gz") as tar:
            weights = _member(tar, path, weights_member, MAX_WEIGHTS_BYTES)
            vocab = read_token_list(_member(tar, path, vocab_member, MAX_VOCAB_BYTES), f"{path.name}:{vocab_member}")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise WeightsError(f"{path} is not a readable .tgz archive ({exc}); delete it and fetch it again") from exc
    try:
        state = torch.load(io.BytesIO(weights), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged or code-bearing checkpoint
        raise WeightsError(f"{path.name}:{weights_member} is not a checkpoint that loads with weights_only=True ({exc})") from exc
    return convert_fastai_state(state, vocab, out)


def _member(tar: tarfile.TarFile, path: Path, name: str, limit: int) -> bytes:
    """The bytes of the regular file called `name` (at the top or in one folder) in `tar`."""
    for member in tar:
        parts = PurePosixPath(member.name).parts
        if parts and parts[-1] == name and len(parts) <= 2 and member.isfile():
            if member.size > limit:
                raise WeightsError(f"{path.name}:{member.name} is {member.size} bytes, more than {limit}")
            f = tar.extractfile(member)
            assert f is not None  # a regular file always has contents
            return f.read()
    raise WeightsError(f"{path} has no file {name!r}: not one of fastai's model-zoo archives")


class FastaiModelZoo(WeightSource):
    """`fastai:NAME` (NAME in ARCHIVES): fastai's pretrained AWD-LSTMs, as cached graftzoo encoder files."""

    scheme = "fastai"

    def __init__(self, cache_dir: str | Path | None = None, base_url: str = FASTAI_MODELZOO,
                 timeout: float | None = None) -> None:
        """`cache_dir` (default `$GRAFTZOO_HOME/fastai-modelzoo`, read at each call), the zoo's `base_url`,
        and the seconds to wait for the server at each step (default GRAFTZOO_NET_TIMEOUT)."""
        self._cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.base_url, self.timeout = base_url, timeout

    @property
    def cache_dir(self) -> Path:
        return self._cache_dir if self._cache_dir is not None else graftzoo_home() / "fastai-modelzoo"

    def archive(self, ref: str, arch: ArchSpec | None = None) -> tuple[str, ZooArchive]:
        """(name, archive) of `ref`, checked to be fastai's and to fit `arch`."""
        _, name = split_ref(ref)
        if name not in ARCHIVES:
            raise WeightsError(f"fastai's model zoo has no {name!r} here; known: {', '.join(f'fastai:{n}' for n in ARCHIVES)}")
        if arch is not None and arch.name != ARCH:
            raise WeightsError(f"{ref} holds {ARCH} weights, not {arch.name}'s")
        return name, ARCHIVES[name]

    def resolve(self, ref: str, arch: ArchSpec | None = None) -> Path:
        """The cached encoder file of `ref`: downloaded, checked and converted the first time."""
        name, archive = self.archive(ref, arch)
        out = self.cache_dir / f"{name}.safetensors"
        if out.is_file():
            return out
        tgz = self.cache_dir / archive.filename
        if not tgz.is_file():
            download(self.base_url + archive.filename, tgz, None, self.timeout)
        verify_archive(tgz, archive)
        convert_zoo_archive(tgz, out, archive.weights_member, archive.vocab_member)
        tgz.unlink()
        return out

    def load_state_dict(self, ref: str, arch: ArchSpec | None = None) -> StateDict:
        """The encoder's tensors (for a network built on fastai's own vocabulary); learners re-index them instead."""
        from graftzoo_text.encoder_io import DECODER_BIAS, read_encoder

        tensors, _ = read_encoder(self.resolve(ref, arch))
        tensors.pop(DECODER_BIAS, None)
        return tensors
