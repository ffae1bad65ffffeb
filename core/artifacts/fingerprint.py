"""The fingerprint of a body's SOURCE weights: which exact tensors a saved head was trained on.

`sha256:` followed by the hex digest of, for each key in sorted order:

    key (UTF-8) NUL  dtype NUL  shape NUL  raw bytes

where dtype is torch's name without the `torch.` prefix (`float32`), shape is the dims joined
by `,` (empty for a scalar), and the raw bytes are the tensor's contiguous CPU memory (native
little-endian). Keys, dtypes and shapes are hashed as well as the bytes, so renamed or reshaped
tensors with the same values give another fingerprint. The state dict is the one the weight source
returns (keyed for the full network, before the cut), so it does not depend on `cut` or `n_in`.
"""

from __future__ import annotations

import hashlib
import os
from typing import Mapping

import torch

from graftzoo.spec import ArchSpec

PREFIX = "sha256:"

# (resolved file, size, mtime_ns) -> fingerprint; filled only after a successful read
_MEMO: dict[tuple[str, int, int], str] = {}


def fingerprint_state_dict(state: Mapping[str, torch.Tensor]) -> str:
    """`sha256:<hex>` over `state` in the canonical order described in this module's docstring."""
    digest = hashlib.sha256()
    for key in sorted(state):
        tensor = state[key].detach().to("cpu").contiguous()
        dtype = str(tensor.dtype).removeprefix("torch.")
        shape = ",".join(str(d) for d in tensor.shape)
        digest.update(f"{key}\0{dtype}\0{shape}\0".encode())
        if tensor.numel():
            digest.update(tensor.reshape(-1).view(torch.uint8).numpy().data)  # .data: the array's bytes as a memoryview, no copy
    return PREFIX + digest.hexdigest()


def source_fingerprint(ref: str, spec: ArchSpec | None = None) -> str:
    """The fingerprint of the weights `ref` names, as its weight source reads them.

    Remembered per resolved file (path, size, modification time) for the life of the process,
    so loading several heads onto one body hashes its weights once.
    """
    from graftzoo.weights import source_state_dict, split_ref, weight_source

    source = weight_source(split_ref(ref)[0])
    own = getattr(source, "fingerprint", None)
    if callable(own):  # a source that builds whole bodies (head://) fingerprints them itself
        fingerprint: str = own(ref, spec)
        return fingerprint
    path = source.resolve(ref, spec)
    stat = os.stat(path)
    key = (os.path.realpath(path), stat.st_size, stat.st_mtime_ns)
    if key not in _MEMO:
        _MEMO[key] = fingerprint_state_dict(source_state_dict(ref, spec))
    return _MEMO[key]


def forget_fingerprints() -> None:
    """Drop the remembered fingerprints (benchmarks measure a cold load with it)."""
    _MEMO.clear()
