"""LoRA through `peft`: injecting adapters into a body's layers, finding them, merging them away."""

from __future__ import annotations

import re
from dataclasses import replace
from types import ModuleType
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from graftzoo.adapters.lora import LoRA
from graftzoo.adapters.targets import adaptable_layers, resolve_targets
from graftzoo.adapters.trainable import has_adapters, mark_trainable
from graftzoo.errors import ConfigError, GraftzooError

if TYPE_CHECKING:
    from graftzoo.body import Body

PEFT_PIN = "peft==0.21.2"
PIP_LINE = 'pip install "graftzoo[peft]"'


class MissingPeftError(ConfigError):
    """LoRA adapters were asked for, and the optional `peft` library is not installed."""


def require_peft() -> ModuleType:
    """The `peft` module, or a MissingPeftError with the pip line that installs it."""
    try:
        import peft
    except ImportError as exc:
        raise MissingPeftError(
            f"LoRA adapters need the optional library peft, which is not installed ({exc}): "
            f"{PIP_LINE}  (or: pip install {PEFT_PIN})"
        ) from None
    return peft


def inject(body: Body, lora: LoRA) -> LoRA:
    """Wrap the body's target layers with LoRA (in place); return the settings with the exact layer names.

    The adapters start as a no-op (peft initialises `lora_B` to zeros), so the body's outputs are
    unchanged until training; they do not advance torch's RNG. Afterwards only the adapters (and
    BatchNorm, as `lora.batch_norm` says) are trainable in the body; unless `batch_norm` is `train`,
    the body keeps its BatchNorm layers in eval mode (`Body.keep_bn_statistics`).
    """
    if has_adapters(body):
        raise ConfigError(f"the {body.arch} body already has adapters; merge() them first or start from a fresh model")
    peft = require_peft()
    groups = body.param_groups()
    holders = adaptable_layers(body.net)
    names = resolve_targets(holders, lora.target_modules, default=body.spec.lora_targets,
                            last_group=groups[-1] if groups else None, arch=body.arch)
    parameters = [name for name in names if isinstance(holders[name], nn.RNNBase)]  # peft's target_parameters
    layers = [name for name in names if name not in parameters]
    if parameters and lora.dropout:
        raise ConfigError(f"LoRA dropout cannot apply to RNN weights such as {parameters[0]!r} of the {body.arch} body "
                          "(peft adapts them as parameters, with no input to drop): use LoRA(dropout=0)")
    exact = "^(?:" + "|".join(re.escape(name) for name in layers) + ")$" if layers else []  # a str: peft's full-match regex
    config = peft.LoraConfig(r=lora.r, lora_alpha=lora.to_json()["alpha"], lora_dropout=lora.dropout,
                             target_modules=exact, target_parameters=parameters or None, bias="none")
    try:
        with torch.random.fork_rng(devices=[]):  # the adapters' init leaves the RNG as it was: the head grafted next is the same
            peft.inject_adapter_in_model(config, body.net)
    except (ValueError, TypeError, RuntimeError) as exc:
        raise ConfigError(f"peft cannot put LoRA adapters on the {body.arch} body's layers {names[:5]}: {exc}") from exc
    lora = replace(lora, batch_norm=resolve_batch_norm(body.net, lora.batch_norm))
    mark_trainable(body, lora.batch_norm)
    body.keep_bn_statistics = lora.batch_norm != "train"
    body.train(body.training)
    return lora.with_targets(names)


def resolve_batch_norm(net: nn.Module, mode: str) -> str:
    """`mode`, with `auto` resolved: `train` when no BatchNorm of `net` ever estimated its statistics
    (every running mean exactly 0 and variance exactly 1, as initialised: nothing worth keeping), else `affine`."""
    if mode != "auto":
        return mode
    stats = [(m.running_mean, m.running_var) for m in net.modules() if isinstance(m, _BatchNorm)]
    kept = [(mean, var) for mean, var in stats if isinstance(mean, torch.Tensor) and isinstance(var, torch.Tensor)]
    untouched = bool(kept) and all(not mean.any() and bool(torch.all(var == 1)) for mean, var in kept)
    return "train" if untouched else "affine"


def apply_adapters(body: Body, adapters: dict[str, Any] | None) -> dict[str, Any] | None:
    """Inject the adapters a ModelConfig describes; their JSON with the resolved layer names (None: none)."""
    if adapters is None:
        return None
    try:
        return inject(body, LoRA.from_json(adapters)).to_json()
    except MissingPeftError:
        raise
    except GraftzooError as exc:
        raise ConfigError(f"adapters {adapters}: {exc}") from exc


def merge_layers(net: nn.Module) -> int:
    """Fold every LoRA layer of `net` into its base layer and put the base layer back; the count merged."""
    peft = require_peft()
    lora_layer = peft.tuners.lora.LoraLayer
    found = [(name, module) for name, module in net.named_modules() if isinstance(module, lora_layer)]
    for _, module in found:
        module.merge()  # an RNN with several adapted weights has one wrapper per weight, nested: each merges its own
    wrappers = {name for name, _ in found}
    for name, module in found:
        parent_name, _, child = name.rpartition(".")
        if parent_name not in wrappers:  # the outermost wrapper gives way to the layer inside them all
            setattr(net.get_submodule(parent_name) if parent_name else net, child, module.get_base_layer())
    return len(found)
