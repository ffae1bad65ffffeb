"""A fastai-style walk through the data pipeline: one item step by step, then one batch."""

from __future__ import annotations

from typing import Any

import torch
from PIL import Image

from graftzoo_vision.data.collate import collate_items, collate_problem


def describe_value(x: Any) -> str:
    """A one-line description of an image, tensor or label."""
    if isinstance(x, Image.Image):
        return f"PIL image mode={x.mode} size={x.width}x{x.height}"
    if isinstance(x, torch.Tensor):
        if x.ndim == 0:
            return f"tensor({x.item()})"
        text = f"{str(x.dtype).replace('torch.', '')} tensor of shape {tuple(x.shape)}"
        if x.is_floating_point() and x.numel():
            text += f", values {x.min().item():.3g}..{x.max().item():.3g}"
        return text
    return repr(x)


def _vocab_line(dls: Any) -> str:
    if dls.vocab is None:
        return f"Task {dls.task}: {dls.c} value(s) per item"
    what = "tags" if dls.task == "core/multilabel" else "classes"
    return f"Vocab ({dls.c} {what}): {dls.vocab[:12]}{' ...' if dls.c > 12 else ''}"


def describe(dls: Any, bs: int = 4) -> str:
    """The walk-through text for an `ImageDataLoaders` (its random streams are left untouched)."""
    ds = dls.train_ds
    lines = [
        f"Found {len(ds) + len(dls.valid_ds)} items: {len(ds)} train, {len(dls.valid_ds)} valid",
        _vocab_line(dls),
        "Building one sample",
        f"  starting from\n    {ds.describe_item(0)}",
    ]
    gen = torch.Generator().manual_seed(dls.seed)
    x: Any = ds.items[0]
    for name, step in ds.tfm.steps(gen):
        x = step(x)
        lines.append(f"  applying {name} gives\n    {describe_value(x)}")
    label = ds.labels[0]
    lines.append(f"  label {dls.label_text(label)!r} encoded as {describe_value(label) if label.ndim else int(label)}")
    lines.append(f"Final sample: ({describe_value(x)}, {describe_value(label)})")
    n = min(bs, len(ds))
    lines += ["Building one batch", f"  Adding the next {n - 1} samples"]
    samples = [(x, label)] + [(ds.tfm(ds.items[i], gen), ds.labels[i]) for i in range(1, n)]
    lines.append("  Collating items in a batch")
    problem = collate_problem(samples)
    if problem is not None:
        lines += ["  Error! It's not possible to collate your items in a batch", f"  {problem}"]
        return "\n".join(lines)
    batch = collate_items(samples)
    lines.append(f"    gives ({', '.join(describe_value(b) for b in batch)})")
    out = dls.batch_transform(batch, True, gen=gen)
    lines.append(f"  applying batch_transform(train=True) gives\n    ({', '.join(describe_value(b) for b in out)})")
    return "\n".join(lines)
