"""The `hf://` weight source: safetensors weights from any Hugging Face Hub repo, through its cache."""

from __future__ import annotations

from pathlib import Path

from graftzoo.errors import WeightsError
from graftzoo.hub.hf_client import fetch_file
from graftzoo.hub.hf_errors import hf_errors
from graftzoo.hub.refs import validate_repo_id, validate_revision
from graftzoo.spec import ArchSpec
from graftzoo.weights import WeightSource

DEFAULT_FILE = "model.safetensors"


def parse_weights_ref(ref: str) -> tuple[str, str | None, str]:
    """`hf://ns/name[@rev][/path/file.safetensors]` → (repo_id, revision or None, filename)."""
    if not ref.startswith("hf://"):
        raise WeightsError(f"{ref!r} is not an hf:// weights reference (e.g. 'hf://timm/resnet18.a1_in1k@main/model.safetensors')")
    parts = ref[len("hf://"):].split("/")
    if len(parts) < 2:
        raise WeightsError(f"{ref!r} names no repo: write hf://namespace/name[@revision][/file.safetensors]")
    name, _, revision = parts[1].partition("@")
    repo_id, filename = f"{parts[0]}/{name}", "/".join(parts[2:]) or DEFAULT_FILE
    validate_repo_id(repo_id)
    if revision:
        validate_revision(revision)
    return repo_id, revision or None, filename


class HfWeights(WeightSource):
    """Downloads (or finds in the HF cache) one weights file of a Hub repo; never runs code from the file.

    Only that file is fetched; offline (GRAFTZOO_OFFLINE / HF_HUB_OFFLINE) only the cache is read.
    """

    scheme = "hf"

    def base_model(self, ref: str, arch: str) -> str | None:
        """The repo the weights file lives in."""
        return parse_weights_ref(ref)[0]

    def resolve(self, ref: str, arch: ArchSpec | None = None) -> Path:
        repo_id, revision, filename = parse_weights_ref(ref)
        with hf_errors("download weights from", repo_id, revision):
            return Path(fetch_file(repo_id, filename, revision=revision))
