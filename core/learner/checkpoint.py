"""Checkpoints: model and optimizer state in one safetensors file, written atomically.

Tensors go in the file under `model.<key>`, `opt.state.<param>.<name>` and
`opt.group.<i>.<name>`; everything else of the optimizer's state_dict (hyper-
parameters, step counts that are Python numbers) goes in JSON under the metadata
key `graftzoo.learner`. Tensors and JSON only, nothing executable.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import Tensor, nn

from graftzoo.artifacts.atomic import atomic_file
from graftzoo.errors import GraftzooError

__all__ = ["FORMAT", "flatten_opt_state", "load_checkpoint", "save_checkpoint", "unflatten_opt_state"]

FORMAT = "graftzoo.learner/1"
_META_KEY = "graftzoo.learner"


def _encode(v: Any, where: str) -> Any:
    if isinstance(v, tuple):
        return {"__tuple__": [_encode(x, where) for x in v]}
    if isinstance(v, list):
        return [_encode(x, where) for x in v]
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    raise GraftzooError(
        f"cannot save optimizer setting {where} of type {type(v).__name__}; checkpoints hold "
        "tensors, numbers, strings, bools, None and lists/tuples of those."
    )


def _decode(v: Any) -> Any:
    if isinstance(v, dict) and "__tuple__" in v:
        return tuple(_decode(x) for x in v["__tuple__"])
    if isinstance(v, list):
        return [_decode(x) for x in v]
    return v


def flatten_opt_state(sd: dict[str, Any]) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Split an optimizer state_dict into tensors (prefixed keys) and JSON-able metadata."""
    tensors: dict[str, Tensor] = {}
    state_meta: dict[str, dict[str, Any]] = {}
    for idx, st in sd["state"].items():
        entry: dict[str, Any] = {}
        for name, v in st.items():
            if isinstance(v, Tensor):
                tensors[f"opt.state.{idx}.{name}"] = v
            else:
                entry[name] = _encode(v, f"state[{idx}][{name!r}]")
        state_meta[str(idx)] = entry
    groups = []
    for i, g in enumerate(sd["param_groups"]):
        entry = {}
        for name, v in g.items():
            if isinstance(v, Tensor):
                tensors[f"opt.group.{i}.{name}"] = v
            else:
                entry[name] = _encode(v, f"param_groups[{i}][{name!r}]")
        groups.append(entry)
    return tensors, {"state": state_meta, "param_groups": groups}


def unflatten_opt_state(tensors: dict[str, Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    """Rebuild the optimizer state_dict that `flatten_opt_state` split."""
    state: dict[int, dict[str, Any]] = {int(i): {k: _decode(v) for k, v in e.items()} for i, e in meta["state"].items()}
    groups = [{k: _decode(v) for k, v in g.items()} for g in meta["param_groups"]]
    for key, t in tensors.items():
        kind, rest = key.split(".", 2)[1:]
        idx, name = rest.split(".", 1)
        if kind == "state":
            state.setdefault(int(idx), {})[name] = t
        else:
            groups[int(idx)][name] = t
    return {"state": state, "param_groups": groups}


def _unshare(tensors: dict[str, Tensor]) -> dict[str, Tensor]:
    """Contiguous CPU-side copies where tensors share storage (tied weights), as safetensors needs."""
    out, seen = {}, set()
    for k, t in tensors.items():
        t = t.detach()
        ptr = (t.device, t.untyped_storage().data_ptr()) if t.numel() else None
        if ptr is not None and ptr in seen:
            t = t.clone()
        elif ptr is not None:
            seen.add(ptr)
        out[k] = t.contiguous().to("cpu")
    return out


def save_checkpoint(path: str | Path, model: nn.Module, opt: torch.optim.Optimizer | None) -> Path:
    """Write model (and optimizer, unless `opt` is None) state to `path` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, Tensor] = {}
    for k, v in model.state_dict().items():
        if not isinstance(v, Tensor):
            raise GraftzooError(f"model state {k!r} is not a tensor; checkpoints only hold tensors.")
        tensors[f"model.{k}"] = v
    meta: dict[str, Any] = {"format": FORMAT, "with_opt": opt is not None}
    if opt is not None:
        opt_tensors, meta["opt"] = flatten_opt_state(opt.state_dict())
        tensors.update(opt_tensors)
    with atomic_file(path) as tmp:
        save_file(_unshare(tensors), str(tmp), metadata={_META_KEY: json.dumps(meta)})
    return path


def load_checkpoint(
    path: str | Path, model: nn.Module, opt: torch.optim.Optimizer | None, strict: bool = True
) -> bool:
    """Load model state (and optimizer state when `opt` is given); return whether the
    optimizer state was loaded."""
    path = Path(path)
    if not path.is_file():
        raise GraftzooError(f"no checkpoint at {path}; check the name (learn.save(name) writes it).")
    with safe_open(str(path), framework="pt", device="cpu") as f:
        raw = (f.metadata() or {}).get(_META_KEY)
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    if raw is None:
        raise GraftzooError(f"{path} is not a graftzoo learner checkpoint (no {_META_KEY!r} metadata).")
    meta = json.loads(raw)
    if meta.get("format") != FORMAT:
        raise GraftzooError(f"{path} has checkpoint format {meta.get('format')!r}; this graftzoo reads {FORMAT!r}.")
    model_sd = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    model.load_state_dict(model_sd, strict=strict)
    if opt is None:
        return False
    if "opt" not in meta:
        warnings.warn(f"{path} holds no optimizer state; only the model was loaded.", stacklevel=3)
        return False
    opt_tensors = {k: v for k, v in tensors.items() if k.startswith("opt.")}
    try:
        opt.load_state_dict(unflatten_opt_state(opt_tensors, meta["opt"]))
    except (ValueError, KeyError) as e:
        raise GraftzooError(
            f"the optimizer state in {path} does not fit this learner's optimizer ({e}); the "
            "parameter groups differ. Load with with_opt=False to take the weights only."
        ) from e
    return True
