"""`load_head`: a saved head, checked and grafted back onto its body, ready to predict."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from graftzoo.artifacts.fingerprint import source_fingerprint
from graftzoo.artifacts.header import TensorEntry
from graftzoo.artifacts.integrity import check_artifact
from graftzoo.artifacts.locate import located
from graftzoo.artifacts.rebuild import build_model, resolve_specs
from graftzoo.artifacts.schema import TENSORS_FILE
from graftzoo.artifacts.untrusted import check_regular
from graftzoo.errors import ArtifactError, GraftzooError
from graftzoo.weights import reading_weights_once


class FingerprintWarning(UserWarning):
    """The body's weights are not the ones the head was trained on (loaded anyway, strict=False)."""


def load_head(ref: str | os.PathLike[str], *, body_weights: str | None = None, strict: bool = True) -> Any:
    """The GraftedModel saved at `ref`, in eval mode, with `predict(inputs)`.

    `ref` is a folder, a local-hub reference `ns/name[@rev]` (`local://` to be explicit) or
    `hf://ns/name[@rev]`. `body_weights` replaces the weights reference stored in the artifact
    (e.g. `file:///data/resnet34.safetensors` on a machine without the original source). The
    source weights must match the stored fingerprint; with `strict=False` a mismatch only warns.
    """
    with located(ref) as folder, reading_weights_once():
        return load_folder(folder, body_weights=body_weights, strict=strict)


def load_folder(folder: Path, *, body_weights: str | None = None, strict: bool = True) -> Any:
    """`load_head` for a local folder."""
    config, entries = check_artifact(folder)
    weights = body_weights or config["body_weights"]
    arch, _, _ = resolve_specs(config, folder)
    if weights is not None and config["body_fingerprint"] is not None:
        _check_fingerprint(config["body_fingerprint"], weights, arch, strict, folder)
    preprocessor = _preprocessor(config, folder)
    model = build_model(config, weights, entries, folder, arch)
    _check_dtypes(model.state_dict(), entries, folder / TENSORS_FILE)
    model.load_state_dict(_read_tensors(folder / TENSORS_FILE), strict=False)
    model.eval()
    model.preprocessor = preprocessor
    model.vocab = config["classes"]
    model.artifact_info = {**config, "folder": str(folder)}
    return model


def _preprocessor(config: dict[str, Any], folder: Path) -> Any:
    """The stored preprocessor, rebuilt through the registry (its kind must be installed)."""
    from graftzoo.preprocessor import preprocessor_from_state

    stored = config["preprocessor"]
    try:
        return preprocessor_from_state(stored["kind"], stored["state"])
    except GraftzooError as exc:
        raise ArtifactError(f"the preprocessor saved in {folder} cannot be rebuilt: {exc}") from exc


def _check_fingerprint(expected: str, weights: str, arch: Any, strict: bool, folder: Path) -> None:
    try:
        actual = source_fingerprint(weights, arch)
    except GraftzooError as exc:
        raise ArtifactError(f"cannot read the body weights {weights!r} the head in {folder} needs: {exc}") from exc
    if actual == expected:
        return
    message = (
        f"the body weights {weights!r} are not the ones the head in {folder} was trained on "
        f"(fingerprint {actual[:19]}…, expected {expected[:19]}…); predictions would be wrong. "
        "Pass body_weights= pointing at the original weights, or strict=False to load anyway."
    )
    if strict:
        raise ArtifactError(message)
    warnings.warn(message, FingerprintWarning, stacklevel=3)


def _check_dtypes(state: dict[str, Any], entries: dict[str, TensorEntry], path: Path) -> None:
    """Each stored tensor must have its model tensor's dtype (read from the header, before any data).

    A float64, float16, int8 or bool tensor would otherwise be cast silently into the model and give
    garbage predictions.
    """
    wrong = [f"{k}: stored {e.dtype}, model {_safetensors_dtype(state[k])}"
             for k, e in sorted(entries.items()) if k in state and _safetensors_dtype(state[k]) != e.dtype]
    if wrong:
        raise ArtifactError(
            f"the tensors in {path} do not have the model's dtypes ({'; '.join(wrong[:5])}"
            f"{f' and {len(wrong) - 5} more' if len(wrong) > 5 else ''}). The artifact was edited or written by "
            "another tool; save or pull the head again."
        )


def _safetensors_dtype(tensor: Any) -> str:
    """The safetensors header name of `tensor`'s dtype ('F32', 'I64', ...)."""
    import torch

    names = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
             torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
             torch.bool: "BOOL"}
    return names.get(tensor.dtype, str(tensor.dtype))


def _read_tensors(path: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    check_regular(path)
    try:
        return load_file(str(path))
    except Exception as exc:  # safetensors raises its own error types
        raise ArtifactError(f"cannot read {path} ({exc}); save or pull the head again") from exc
