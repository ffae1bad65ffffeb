"""The body fingerprint: sha256 over the source state dict in a documented canonical order."""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import ModuleType

import torch
from safetensors.torch import load_file

from graftzoo.artifacts import fingerprint_state_dict, source_fingerprint


def test_canonical_form_matches_the_documented_recipe() -> None:
    state = {"b": torch.tensor([1.0, 2.0]), "a": torch.tensor([[1, 2]], dtype=torch.int64), "c": torch.tensor(3.0)}
    digest = hashlib.sha256()
    for key in ("a", "b", "c"):
        tensor = state[key]
        shape = ",".join(str(d) for d in tensor.shape)
        digest.update(f"{key}\0{str(tensor.dtype).removeprefix('torch.')}\0{shape}\0".encode())
        digest.update(tensor.numpy().tobytes())
    assert fingerprint_state_dict(state) == "sha256:" + digest.hexdigest()


def test_order_independent_but_sensitive_to_names_dtypes_shapes_and_values() -> None:
    state = {"w": torch.arange(6.0).reshape(2, 3), "b": torch.zeros(3)}
    base = fingerprint_state_dict(state)
    assert fingerprint_state_dict(dict(reversed(list(state.items())))) == base
    assert fingerprint_state_dict({**state, "w": state["w"].t().contiguous().t()}) == base  # layout does not matter
    for changed in (
        {"W": state["w"], "b": state["b"]},
        {**state, "w": state["w"].double()},
        {**state, "w": state["w"].reshape(3, 2)},
        {**state, "b": torch.tensor([0.0, 0.0, 1e-7])},
    ):
        assert fingerprint_state_dict(changed) != base


def test_source_fingerprint_reads_the_weight_source(weights_ref: str) -> None:
    path = Path(weights_ref.removeprefix("file://"))
    assert source_fingerprint(weights_ref) == fingerprint_state_dict(load_file(str(path)))


def test_fingerprint_ignores_cut_and_channels(kit: ModuleType, weights_ref: str, tmp_path: Path) -> None:
    import json

    one = kit.make_model(weights_ref).save_head(tmp_path / "one")
    gray = kit.make_model(weights_ref, n_in=1).save_head(tmp_path / "gray")
    fingerprints = {json.loads((f / "graftzoo.json").read_text())["body_fingerprint"] for f in (one, gray)}
    assert fingerprints == {source_fingerprint(weights_ref)}
