"""`save_head`: a trained head (and the body tensors training changed) as a folder of three files."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Sequence

from torch import nn

from graftzoo.artifacts.atomic import atomic_folder
from graftzoo.artifacts.target import check_target, holds_only_a_saved_head
from graftzoo.artifacts.fingerprint import source_fingerprint
from graftzoo.artifacts.metadata import Provenance, now, provenance, versions
from graftzoo.artifacts.model_card import render_card
from graftzoo.artifacts.schema import CARD_FILE, CONFIG_FILE, FORMAT_VERSION, TENSORS_FILE, classes_fit, validate_config
from graftzoo.artifacts.tensors import BODY_PREFIX, trained_tensors
from graftzoo.cutting import UNNAMEABLE_CUT
from graftzoo.errors import ArtifactError
from graftzoo.weights import reading_weights_once

NORM_TYPES = (
    nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm, nn.GroupNorm, nn.LayerNorm,
    nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d,
)


def save_head(
    model_or_learner: Any,
    folder: str | os.PathLike[str],
    *,
    metrics: dict[str, Any] | None = None,
    vocab: Sequence[Any] | None = None,
    dataset: str | None = None,
) -> Path:
    """Write `head.safetensors`, `graftzoo.json` and `README.md` to `folder`, all at once.

    `model_or_learner` is a GraftedModel or a Learner (its `dls.vocab`, `dls.preprocessor` and
    the recorder's last epoch are used). `metrics` and `vocab` (the class names) override what the
    Learner knows; `dataset` names the training data in the model card. An existing `folder` that
    holds a saved head is replaced only once the new one is complete.
    """
    with reading_weights_once():
        return _save(model_or_learner, folder, metrics, vocab, dataset)


def _save(model_or_learner: Any, folder: str | os.PathLike[str], metrics: dict[str, Any] | None,
          vocab: Sequence[Any] | None, dataset: str | None) -> Path:
    prov = provenance(model_or_learner, metrics=metrics, vocab=vocab)
    model = prov.model
    config = model.config
    if prov.classes is not None and not classes_fit(config["n_out"], len(prov.classes)):
        raise ArtifactError(
            f"{len(prov.classes)} class names for a head with n_out={config['n_out']} outputs: pass vocab= with one name per output (two for a binary head with one output)"
        )
    if not (config["cut"] is None or isinstance(config["cut"], (int, str))):
        raise ArtifactError(UNNAMEABLE_CUT)
    tensors = trained_tensors(model)
    body_keys = sorted(k for k in tensors if k.startswith(BODY_PREFIX))
    weights = config["weights"]
    fingerprint = source_fingerprint(weights, model.body.spec) if weights else None
    title = Path(folder).expanduser().absolute().name
    with atomic_folder(check_target(folder), holds_only_a_saved_head) as tmp:  # never a hub revision or a folder with other files
        head_file = _write_tensors(tensors, tmp / TENSORS_FILE)
        data = _config(prov, fingerprint, body_keys, head_file)
        validate_config(data, "the new graftzoo.json")
        (tmp / CONFIG_FILE).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        (tmp / CARD_FILE).write_text(render_card(data, title=title, dataset=dataset), encoding="utf-8")
    return Path(folder)


def _write_tensors(tensors: dict[str, Any], path: Path) -> dict[str, Any]:
    from safetensors.torch import save_file

    save_file(tensors, str(path), metadata={"format": "pt", "graftzoo": f"head/{FORMAT_VERSION}"})
    data = path.read_bytes()
    return {"name": TENSORS_FILE, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _config(prov: Provenance, fingerprint: str | None, body_keys: list[str], head_file: dict[str, Any]) -> dict[str, Any]:
    model, config = prov.model, prov.model.config
    return {
        "format_version": FORMAT_VERSION,
        "arch": config["arch"],
        "body_weights": config["weights"],
        "body_fingerprint": fingerprint,
        "inputs": config["inputs"],
        "body_kwargs": config["body_kwargs"],
        "preprocessor": {"kind": prov.preprocessor.kind, "state": prov.preprocessor.state()},
        "cut": config["cut"],
        "head": config["head"],
        "head_kwargs": config["head_kwargs"],
        "n_out": config["n_out"],
        "task": config["task"],
        "classes": prov.classes,
        "vocab": prov.vocab,
        "metrics": prov.metrics,
        "versions": versions(_distributions(model)),
        "body_tensors": body_keys,
        "adapters": config.get("adapters"),
        "head_file": head_file,
        "training": {**prov.training, "body": _body_change(model, body_keys), "fine_tuning": _fine_tuning(model, body_keys)},
        "created": now(),
    }


def _distributions(model: Any) -> list[str]:
    """The distributions that registered the arch, head, task and weight source."""
    from graftzoo.registry import current
    from graftzoo.weights import split_ref

    registry, config = current(), model.config
    specs = [model.body.spec, registry.get("heads", config["head"]), registry.get("tasks", config["task"])]
    if config["weights"]:
        specs.append(registry.weight_source_for(split_ref(config["weights"])[0]))
    return list(dict.fromkeys(s.distribution for s in specs if s.distribution))


def _fine_tuning(model: Any, body_keys: list[str]) -> str:
    """"lora" (adapters), "full" (body weights changed) or "frozen" (at most normalization layers changed)."""
    if model.config.get("adapters"):
        return "lora"
    return "full" if model.config["weights"] is None or not set(body_keys) <= _norm_keys(model) else "frozen"


def _norm_keys(model: Any) -> set[str]:
    return {
        f"body.{name}.{key}" if name else f"body.{key}"
        for name, module in model.body.named_modules() if isinstance(module, NORM_TYPES)
        for key in module.state_dict()
    }


def _body_change(model: Any, body_keys: list[str]) -> str:
    """How the body was trained, as far as the stored tensors tell."""
    if model.config["weights"] is None:
        return "no pretrained weights: the whole body is stored"
    adapters = model.config.get("adapters")
    if adapters:
        return (f"LoRA adapters on {len(adapters['target_modules'])} layers, BatchNorm {adapters.get('batch_norm', 'train')} "
                f"({len(body_keys)} adapter and normalization tensors stored)")
    if not body_keys:
        return "frozen: identical to its source weights"
    norm = _norm_keys(model)
    total = len(model.body.state_dict())
    if set(body_keys) <= norm:
        return f"frozen except its normalization layers ({len(body_keys)} of {total} tensors changed)"
    return f"fine-tuned ({len(body_keys)} of {total} tensors changed)"
