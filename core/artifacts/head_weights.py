"""`head://`: the body a saved head was trained with, as the weights of a new model.

`graft("resnet34", "classify", n_out=5, weights="head://alice/pets")` starts from the body of the
head saved at `alice/pets` (any reference `load_head` takes follows `head://`: `ns/name[@rev]`,
`hf://ns/name[@rev]`, or an absolute folder as `head:///path/to/head`). That body is its source
weights plus the body tensors training changed, checked against the head's fingerprint. It is the
ULMFiT step (language-model encoder -> classifier) and lets one fine-tuned body serve many heads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graftzoo.body import Body
from graftzoo.errors import GraftzooError, WeightsError
from graftzoo.inputs import InputSpec
from graftzoo.spec import ArchSpec
from graftzoo.weights import StateDict, WeightSource

PREFIX = "head://"


class HeadWeights(WeightSource):
    """Serves `head://REF`: builds the trained body of the saved head at REF."""

    scheme = "head"

    def build_body(self, ref: str, spec: ArchSpec, inputs: InputSpec, cut: Any, body_kwargs: dict[str, Any] | None = None) -> Body:
        """The saved head's body, for `spec` with `inputs`; a WeightsError when they do not match."""
        model = self._load(ref)
        config = model.model_config
        if config.arch != spec.name:
            raise WeightsError(f"{ref!r} holds a body of {config.arch}, not {spec.name}: graft {config.arch} to use it")
        if cut is not None and cut != config.cut:
            raise WeightsError(f"{ref!r} was cut at {config.cut!r}; a body from a saved head keeps its cut (got cut={cut!r})")
        if inputs != config.inputs:
            raise WeightsError(f"{ref!r} was trained for inputs {config.inputs.to_json()}, not {inputs.to_json()}")
        if body_kwargs and body_kwargs != config.body_kwargs:
            raise WeightsError(f"{ref!r} was built with body_kwargs {config.body_kwargs}, not {body_kwargs}: leave them out")
        body: Body = model.body
        body.weights = ref
        body.settings = dict(config.body_kwargs)
        body.train()
        return body

    def fingerprint(self, ref: str, spec: ArchSpec | None = None) -> str:
        """The fingerprint of the trained body's tensors (what a head grafted on it was trained with)."""
        from graftzoo.artifacts.fingerprint import fingerprint_state_dict

        return fingerprint_state_dict(self._load(ref).body.state_dict())

    def resolve(self, ref: str, arch: ArchSpec | None = None) -> Path:
        from graftzoo.artifacts.locate import locate

        folder, _ = locate(_target(ref))
        return folder / "head.safetensors"

    def load_state_dict(self, ref: str, arch: ArchSpec | None = None) -> StateDict:
        raise WeightsError(f"{ref!r} is a trained body, not a state dict of a full network: pass it as weights= to graft")

    def _load(self, ref: str) -> Any:
        from graftzoo.artifacts.load import load_head

        try:
            model = load_head(_target(ref))
            return model.merge() if model.adapters else model  # a plain trained body: adapters folded in
        except GraftzooError as exc:
            raise WeightsError(f"cannot take the body of {ref!r}: {exc}") from exc


def _target(ref: str) -> str:
    if not ref.startswith(PREFIX) or len(ref) == len(PREFIX):
        raise WeightsError(f"{ref!r} is not a head reference: write head://ns/name[@rev], head://hf://ns/name or head:///abs/folder")
    return ref[len(PREFIX):]
