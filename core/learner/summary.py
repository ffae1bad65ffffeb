"""`Learner.summary()`: fastai's layer table (output shapes from one batch, parameters, trainable)
followed by totals and how the parameter groups are frozen."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from graftzoo.data_protocol import dls_attr
from graftzoo.errors import ConfigError
from graftzoo.learner.freezing import bn_param_ids
from graftzoo.learner.loop import to_device

if TYPE_CHECKING:
    from graftzoo.learner.learner import Learner

__all__ = ["frozen_groups", "learner_summary", "output_shapes", "shape_text"]

RULE_WIDTH = 76


def shape_text(out: Any) -> str:
    """`64 x 3 x 8 x 8` for a tensor; tuples, lists and dicts of tensors joined with `, `."""
    if isinstance(out, Tensor):
        return " x ".join(str(d) for d in out.shape) if out.dim() else "scalar"
    if isinstance(out, (tuple, list)):
        return ", ".join(shape_text(o) for o in out)
    if isinstance(out, dict):
        return ", ".join(f"{k}: {shape_text(v)}" for k, v in out.items())
    return type(out).__name__


def _one_batch(learn: Learner) -> tuple[Any, ...]:
    """The model inputs of the first validation batch (training batch when there is no validation set)."""
    dl = dls_attr(learn.dls, "valid")
    dl = dl if dl is not None else learn.dls.train
    try:
        batch = next(iter(dl))
    except StopIteration:
        raise ConfigError("summary() needs one batch, but the data loader is empty; give the DataLoaders items.") from None
    if not isinstance(batch, (tuple, list)) or len(batch) < 2:
        raise ConfigError("summary() needs batches shaped (input, ..., target); make the dataset return (x, y) pairs.")
    batch = to_device(batch, learn.device)
    tfm = dls_attr(learn.dls, "batch_transform")
    if tfm is not None:
        batch = tfm(batch, False)
    return tuple(batch[:-1])


def _reported(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Leaf modules, and any module holding parameters of its own, in registration order."""
    return [
        (name, m) for name, m in model.named_modules()
        if name and (not any(True for _ in m.children()) or any(True for _ in m.parameters(recurse=False)))
    ]


def output_shapes(model: nn.Module, xb: tuple[Any, ...]) -> dict[str, str]:
    """Output shape of each reported module (see `_reported`) for one forward pass of `xb`, by name."""
    shapes: dict[str, str] = {}

    def hook_for(name: str) -> Any:
        def hook(module: nn.Module, inputs: Any, output: Any) -> None:
            shapes.setdefault(name, shape_text(output))
        return hook

    handles = [m.register_forward_hook(hook_for(name)) for name, m in _reported(model)]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(*xb)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return shapes


def _trainable(params: list[nn.Parameter]) -> str:
    if not params:
        return ""
    flags = {p.requires_grad for p in params}
    return "partly" if len(flags) == 2 else str(flags.pop())


def frozen_groups(learn: Learner) -> int:
    """How many leading parameter groups are frozen (BatchNorm kept trainable by train_bn does not count)."""
    bn = bn_param_ids(learn.model)
    count = 0
    for group in learn.param_lists:
        judged = [p for p in group if id(p) not in bn] or group
        if not judged or any(p.requires_grad for p in judged):
            break
        count += 1
    return count


def _count(params: Any) -> int:
    return sum(p.numel() for p in params)


def learner_summary(learn: Learner) -> str:
    """The summary text: one row per layer, totals, groups, optimizer, loss and callbacks."""
    model = learn.model
    xb = _one_batch(learn)
    shapes = output_shapes(model, xb)
    rows = []
    for name, m in _reported(model):
        own = list(m.parameters(recurse=False)) if any(True for _ in m.children()) else list(m.parameters())
        rows.append((f"{name} ({type(m).__name__})", shapes.get(name, "-"), f"{_count(own):,}", _trainable(own)))
    w0 = max([len("Layer (type)")] + [len(r[0]) for r in rows]) + 2
    w1 = max([len("Output Shape")] + [len(r[1]) for r in rows]) + 2
    rule = "=" * max(RULE_WIDTH, w0 + w1 + 22)
    lines = [f"{type(model).__name__} (Input shape: {shape_text(xb[0] if len(xb) == 1 else xb)})", rule,
             f"{'Layer (type)':<{w0}}{'Output Shape':<{w1}}{'Param #':<12}Trainable", rule]
    lines += [f"{a:<{w0}}{b:<{w1}}{c:<12}{d}".rstrip() for a, b, c, d in rows]
    params = list(model.parameters())
    trainable = _count(p for p in params if p.requires_grad)
    lines += [rule, f"Total params: {_count(params):,}", f"Total trainable params: {trainable:,}",
              f"Total non-trainable params: {_count(params) - trainable:,}", ""]
    lines.append(f"Parameter groups: {len(learn.param_lists)}")
    for i, group in enumerate(learn.param_lists):
        lines.append(f"  group {i}: {_count(group):,} params, trainable: {_trainable(group) or 'no parameters'}")
    frozen = frozen_groups(learn)
    lines.append(f"Model frozen up to parameter group #{frozen}" if frozen else "Model unfrozen")
    opt = learn.opt_func
    lines.append(f"Optimizer used: {getattr(opt, '__name__', type(opt).__name__)}")
    lines.append(f"Loss function: {learn.loss_func}")
    lines.append("Callbacks: " + ", ".join(type(cb).__name__ for cb in sorted(learn.cbs, key=lambda c: c.order)))
    return "\n".join(lines)
