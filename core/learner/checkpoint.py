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
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import Tensor, nn

from graftzoo.artifacts.atomic import atomic_file
from graftzoo.errors import GraftzooError

__all__ = [
    "FORMAT", "check_model_fits", "flatten_opt_state", "load_checkpoint", "read_checkpoint", "save_checkpoint",
    "saved_position", "unflatten_opt_state",
]

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


def save_checkpoint(
    path: str | Path, model: nn.Module, opt: torch.optim.Optimizer | None, position: dict[str, int] | None = None
) -> Path:
    """Write model (and optimizer, unless `opt` is None) state to `path` atomically.

    `position` (`{"epochs_done": k, "n_epoch": n}`) says where in a fit the checkpoint was taken."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, Tensor] = {}
    for k, v in model.state_dict().items():
        if not isinstance(v, Tensor):
            raise GraftzooError(f"model state {k!r} is not a tensor; checkpoints only hold tensors.")
        tensors[f"model.{k}"] = v
    meta: dict[str, Any] = {"format": FORMAT, "with_opt": opt is not None}
    if position is not None:
        meta["position"] = position
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
    optimizer state was loaded.

    A damaged or foreign file is a GraftzooError, and then neither the model nor the optimizer
    has changed: everything is read and checked first, the optimizer (which checks its groups
    before changing) is loaded next, the model last.
    """
    path = Path(path)
    if not path.is_file():
        raise GraftzooError(f"no checkpoint at {path}; check the name (learn.save(name) writes it).")
    meta, tensors = read_checkpoint(path)
    model_sd = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    check_model_fits(model, model_sd, strict, path)
    loaded_opt = False
    if opt is not None and "opt" not in meta:
        warnings.warn(f"{path} holds no optimizer state; only the model was loaded.", stacklevel=3)
    elif opt is not None:
        opt_sd = _opt_state(tensors, meta["opt"], path)
        _check_opt_shapes(opt, opt_sd, path)
        try:
            opt.load_state_dict(opt_sd)
        except (ValueError, KeyError, TypeError, IndexError) as e:
            raise GraftzooError(
                f"the optimizer state in {path} does not fit this learner's optimizer ({e}); the "
                "parameter groups differ. Load with with_opt=False to take the weights only."
            ) from e
        loaded_opt = True
    model.load_state_dict(model_sd, strict=strict)
    return loaded_opt


def saved_position(path: str | Path) -> dict[str, int]:
    """The `position` a checkpoint was saved with (`{}` when saved outside a fit); reads the header only."""
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            meta = json.loads((f.metadata() or {}).get(_META_KEY) or "{}")
    except (SafetensorError, OSError, ValueError, RecursionError) as exc:
        raise GraftzooError(f"cannot read the checkpoint {path} ({exc}); save it again.") from exc
    position = meta.get("position") if isinstance(meta, dict) else None
    if not isinstance(position, dict):
        return {}
    valid = all(
        isinstance(position.get(k), int) and not isinstance(position.get(k), bool) and position[k] >= 0 for k in ("epochs_done", "n_epoch")
    )
    return dict(position) if valid else {}


def read_checkpoint(path: Path) -> tuple[dict[str, Any], dict[str, Tensor]]:
    """(metadata, tensors) of a graftzoo learner checkpoint, or a GraftzooError saying what is wrong."""
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            raw = (f.metadata() or {}).get(_META_KEY)
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise GraftzooError(
            f"cannot read the checkpoint {path} ({exc}): it is damaged or not a safetensors file. "
            "Save it again (learn.save) or load an older one."
        ) from exc
    if raw is None:
        raise GraftzooError(f"{path} is not a graftzoo learner checkpoint (no {_META_KEY!r} metadata).")
    try:
        meta = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise GraftzooError(f"the metadata of the checkpoint {path} is not valid JSON ({exc}); it is damaged. Save it again.") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise GraftzooError(f"{path} has checkpoint format {found!r}; this graftzoo reads {FORMAT!r}.")
    return meta, tensors


def check_model_fits(model: nn.Module, state: dict[str, Tensor], strict: bool, path: Path) -> None:
    """GraftzooError unless `state` loads into `model` whole (names and shapes), before anything is copied.

    torch's `load_state_dict` copies every tensor that fits and only then reports the others, which
    would leave a half-loaded model behind.
    """
    own = model.state_dict()
    wrong = [f"{k}: checkpoint {list(v.shape)}, model {list(own[k].shape)}" for k, v in state.items() if k in own and v.shape != own[k].shape]
    missing = sorted(set(own) - set(state)) if strict else []
    unexpected = sorted(set(state) - set(own)) if strict else []
    if wrong or missing or unexpected:
        parts = [f"shape mismatches {wrong[:5]}" if wrong else "", f"missing {missing[:5]}" if missing else "",
                 f"unexpected {unexpected[:5]}" if unexpected else ""]
        raise GraftzooError(
            f"the checkpoint {path} does not fit this model ({'; '.join(p for p in parts if p)}); nothing was loaded. "
            "Load it into the model it was saved from" + (", or pass strict=False to skip missing and unexpected tensors." if strict else ".")
        )


def _opt_state(tensors: dict[str, Tensor], meta: Any, path: Path) -> dict[str, Any]:
    opt_tensors = {k: v for k, v in tensors.items() if k.startswith("opt.")}
    try:
        return unflatten_opt_state(opt_tensors, meta)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as e:
        raise GraftzooError(
            f"the optimizer state in {path} is damaged ({type(e).__name__}: {e}); nothing was loaded. "
            "Load with with_opt=False to take the weights only, or save the checkpoint again."
        ) from e


def _check_opt_shapes(opt: torch.optim.Optimizer, state_dict: dict[str, Any], path: Path) -> None:
    """Per-parameter state tensors (Adam's moments, SGD's momentum) must have their parameter's shape."""
    params = [p for group in opt.param_groups for p in group["params"]]
    for idx, entry in state_dict["state"].items():
        for name, value in entry.items():
            if isinstance(value, Tensor) and value.ndim and 0 <= idx < len(params) and value.shape != params[idx].shape:
                raise GraftzooError(
                    f"the optimizer state in {path} does not fit this model ({name} of parameter {idx} has shape "
                    f"{list(value.shape)}, the parameter {list(params[idx].shape)}); nothing was loaded. "
                    "Load with with_opt=False to take the weights only."
                )
