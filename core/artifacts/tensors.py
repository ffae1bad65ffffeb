"""Which tensors travel in `head.safetensors`: the head's, plus the body's that training changed."""

from __future__ import annotations

from typing import Any

import torch

from graftzoo.adapters.trainable import is_adapter_key
from graftzoo.artifacts.integrity import BODY_PREFIX, HEAD_PREFIX
from graftzoo.cutting import UNNAMEABLE_CUT
from graftzoo.errors import ArtifactError, GraftzooError


def trained_tensors(model: Any) -> dict[str, torch.Tensor]:
    """Every `head.` tensor, each LoRA adapter tensor, and each `body.` tensor that differs from the source weights.

    The reference is the body rebuilt from its weight source (same arch, weights, `n_in`, `cut`),
    compared with `torch.equal`: BatchNorm parameters and statistics trained under `train_bn`, or
    every layer after `unfreeze()`, are found without knowing how training went. A body without
    a weight source is saved whole.
    """
    state = {k: v.detach().to("cpu") for k, v in model.state_dict().items()}
    head = {k: v for k, v in state.items() if k.startswith(HEAD_PREFIX)}
    body = {k: v for k, v in state.items() if k.startswith(BODY_PREFIX)}
    if len(head) + len(body) != len(state):
        odd = sorted(set(state) - set(head) - set(body))[:5]
        raise ArtifactError(f"the model has tensors outside its body and head ({odd}); only graftzoo.graft models can be saved")
    reference = source_body_state(model)
    if reference is not None:  # adapters always travel: they are what fine-tuning trained
        body = {k: v for k, v in body.items() if is_adapter_key(k) or not _same(v, reference.get(k[len(BODY_PREFIX):]))}
    # own copies: safetensors refuses tensors that share memory (tied or viewed weights)
    return {k: v.clone(memory_format=torch.contiguous_format) for k, v in {**head, **body}.items()}


def source_body_state(model: Any) -> dict[str, torch.Tensor] | None:
    """The state dict of the body rebuilt fresh from its weight source (None: it has none)."""
    from graftzoo.grafting import create_body

    config = model.config
    if config.get("weights") is None:
        return None
    if callable(config.get("cut")):
        raise ArtifactError(UNNAMEABLE_CUT)
    try:
        fresh = create_body(model.body.spec, weights=config["weights"], inputs=config["inputs"], cut=config["cut"],
                            body_kwargs=config["body_kwargs"])
    except GraftzooError as exc:
        raise ArtifactError(
            f"cannot rebuild the body from its weights {config['weights']!r} to find what training changed ({exc}). "
            "Make those weights available again and save once more."
        ) from exc
    if config.get("adapters"):  # the same layers wrapped, so the state-dict names match
        from graftzoo.adapters.peft_layers import apply_adapters

        apply_adapters(fresh, config["adapters"])
    return fresh.state_dict()


def _same(trained: torch.Tensor, source: torch.Tensor | None) -> bool:
    return source is not None and trained.dtype == source.dtype and trained.shape == source.shape and torch.equal(trained, source)
