"""Rebuilding the grafted model a `graftzoo.json` describes, checking tensor shapes before allocating."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import torch

from graftzoo.adapters.trainable import is_adapter_key
from graftzoo.artifacts.header import TensorEntry
from graftzoo.artifacts.tensors import BODY_PREFIX, HEAD_PREFIX
from graftzoo.body import Body
from graftzoo.errors import ArtifactError, GraftzooError, UnknownNameError
from graftzoo.model_config import ModelConfig
from graftzoo.spec import ArchSpec

if TYPE_CHECKING:
    from graftzoo.grafting import GraftedModel


def model_config(config: dict[str, Any], weights: str | None) -> ModelConfig:
    """The ModelConfig a validated graftzoo.json describes, with the body's weights `weights`."""
    return ModelConfig.from_json({
        "arch": config["arch"], "weights": weights, "inputs": config["inputs"], "body_kwargs": config["body_kwargs"],
        "cut": config["cut"],
        "head": config["head"], "n_out": config["n_out"], "head_kwargs": config["head_kwargs"], "task": config["task"],
        "adapters": config.get("adapters"),
    })


def resolve_specs(config: dict[str, Any], folder: Path) -> tuple[Any, Any, Any]:
    """The arch, head and task specs, or an ArtifactError that keeps the registry's `pip install` line."""
    from graftzoo.registry import current

    registry = current()
    found = []
    for kind, name in (("archs", config["arch"]), ("heads", config["head"]), ("tasks", config["task"]),
                       ("preprocessors", config["inputs"]["kind"]), ("preprocessors", config["preprocessor"]["kind"])):
        try:
            found.append(registry.get_arch(name) if kind == "archs" else registry.get(kind, name))
        except UnknownNameError as exc:
            raise ArtifactError(f"the head saved in {folder} needs {kind[:-1]} {name!r}, which is not installed: {exc}") from exc
    return found[0], found[1], found[2]


def build_model(
    config: dict[str, Any], weights: str | None, entries: dict[str, TensorEntry], folder: Path, arch: ArchSpec | None = None
) -> GraftedModel:
    """Body from `weights`, head sized on the meta device and checked against `entries`, then built.

    A body saved without a weight source must be stored whole: every body tensor is required then.
    """
    from graftzoo.assembly import assemble

    def check_before_head(body: Body, factory: Callable[..., Any], full: ModelConfig) -> None:
        _check_shapes(_meta_state(factory, body, full), entries, HEAD_PREFIX, folder, every_key=True)
        body_shapes = {BODY_PREFIX + k: v.shape for k, v in body.state_dict().items()}
        _check_shapes(body_shapes, entries, BODY_PREFIX, folder, every_key=config["body_weights"] is None)
        adapter_shapes = {k: v for k, v in body_shapes.items() if is_adapter_key(k)}  # every adapter tensor must be stored
        _check_shapes(adapter_shapes, {k: e for k, e in entries.items() if is_adapter_key(k)}, BODY_PREFIX, folder, every_key=True)

    try:
        model: GraftedModel = assemble(model_config(config, weights), arch=arch, before_head=check_before_head)
    except ArtifactError:
        raise
    except UnknownNameError as exc:
        raise ArtifactError(f"the head saved in {folder} needs something that is not installed: {exc}") from exc
    except GraftzooError as exc:
        raise ArtifactError(f"cannot rebuild the model saved in {folder}: {exc}") from exc
    return model


def _meta_state(factory: Any, body: Any, config: ModelConfig) -> dict[str, torch.Size]:
    """The head's tensor shapes, from a copy built on the meta device (no memory for the tensors)."""
    for attempt in range(2):
        try:
            with torch.device("meta"):
                head = factory(body, config.n_out, **config.head_kwargs)
            return {HEAD_PREFIX + k: v.shape for k, v in head.state_dict().items()}
        except GraftzooError:
            raise
        except (TypeError, ValueError) as exc:
            raise ArtifactError(f"head {config.head!r} cannot be built from head_kwargs {config.head_kwargs}: {exc}") from exc
        except RuntimeError:
            if attempt:
                raise
            body.feature_info  # a head that runs the body to size itself: probe it outside the meta device  # noqa: B018
    raise AssertionError("unreachable")


def _check_shapes(
    expected: dict[str, Any], entries: dict[str, TensorEntry], prefix: str, folder: Path, every_key: bool = False
) -> None:
    """Stored tensors under `prefix` must exist in the model with the same shape (and all, when `every_key`)."""
    stored = {k: e for k, e in entries.items() if k.startswith(prefix)}
    unknown = sorted(set(stored) - set(expected))
    wrong = [f"{k}: stored {list(e.shape)}, model {list(expected[k])}" for k, e in stored.items() if k in expected and tuple(expected[k]) != e.shape]
    missing = sorted(set(expected) - set(stored)) if every_key else []
    if unknown or wrong or missing:
        parts = [f"unknown tensors {unknown[:5]}" if unknown else "", f"shape mismatches {wrong[:5]}" if wrong else "",
                 f"missing tensors {missing[:5]}" if missing else ""]
        raise ArtifactError(
            f"the tensors in {folder / 'head.safetensors'} do not fit the model graftzoo.json describes: "
            + "; ".join(p for p in parts if p) + ". The artifact is damaged or was edited by hand; save or pull it again."
        )
