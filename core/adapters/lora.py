"""`LoRA`: the settings of low-rank adapters, as plain JSON that a saved head can carry safely."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any

from graftzoo.errors import ConfigError

KIND = "lora"
MAX_RANK = 4096
MAX_TARGETS = 10**4
MODULE_PATTERN = re.compile(r"^[A-Za-z0-9_.*?\[\]-]{1,300}$")
"""A module name or glob (`model.blocks.5.*.conv_pw`): dotted names, `*`, `?`, `[...]`; never code."""
KEYS = ("kind", "r", "alpha", "dropout", "target_modules", "batch_norm")
BATCH_NORM_MODES = ("auto", "affine", "frozen", "train")
"""What adapter training does to the body's BatchNorm layers: nothing (`frozen`: running statistics and
affine parameters stay the source's), train the affine parameters only (`affine`: the layers run in
eval mode, so the statistics stay), or train both (`train`: as frozen training with `train_bn`).
`auto` is resolved when the adapters are added (graftzoo.adapters.peft_layers.resolve_batch_norm)."""
LEGACY_BATCH_NORM = "train"
"""What adapter JSON without `batch_norm` (saved before the setting existed) meant."""


@dataclass(frozen=True)
class LoRA:
    """Low-rank adapters (peft's LoRA) on a body's `Conv2d` and `Linear` layers and RNN weight matrices.

    `r` is the rank, `alpha` the scaling numerator (the update is scaled by `alpha / r`; default
    `2 * r`), `dropout` the dropout on the adapter's input (0 for RNN weights). `target_modules`
    lists module names or glob patterns relative to the body's network (`body.net`), RNN weights as
    `<layer>.weight_hh_l0`; None takes the arch's manifest default (`lora_targets`), else every
    adaptable layer of the body's last group.
    `batch_norm` says what happens to the body's BatchNorm layers (one of BATCH_NORM_MODES):
    `affine` trains their affine parameters and keeps their running statistics as the source
    weights have them (the layers run in eval mode); `frozen` keeps them whole; `train` trains
    both, as frozen training does; `auto` (default) is `affine`, unless the body's statistics were
    never estimated (every running mean 0 and variance 1: random source weights), then `train`.
    The defaults (rank 4, `auto`) keep EfficientNet-Lite0's saved head under 5 % of the model's
    bytes (docs/benchmarks-peft.md).
    """

    r: int = 4
    alpha: float | None = None
    dropout: float = 0.0
    target_modules: tuple[str, ...] | None = None
    batch_norm: str = "auto"

    def __post_init__(self) -> None:
        problem = check_adapters(self.to_json())
        if problem:
            raise ConfigError(f"bad LoRA settings: {problem}")

    @property
    def scale(self) -> float:
        return (2.0 * self.r if self.alpha is None else self.alpha) / self.r

    def to_json(self) -> dict[str, Any]:
        """`{"kind": "lora", "r", "alpha", "dropout", "target_modules", "batch_norm"}`: what ModelConfig and graftzoo.json store."""
        targets = None if self.target_modules is None else list(self.target_modules)
        alpha = 2.0 * self.r if self.alpha is None else self.alpha
        return {"kind": KIND, "r": self.r, "alpha": alpha, "dropout": self.dropout, "target_modules": targets,
                "batch_norm": self.batch_norm}

    @classmethod
    def from_json(cls, data: Any) -> LoRA:
        """The LoRA a `to_json` dict (or a LoRA) describes; a ConfigError naming the bad key otherwise."""
        if isinstance(data, LoRA):
            return data
        problem = check_adapters(data)
        if problem:
            raise ConfigError(f"bad adapter settings: {problem}")
        targets = data["target_modules"]
        return cls(r=data["r"], alpha=float(data["alpha"]), dropout=float(data["dropout"]),
                   target_modules=None if targets is None else tuple(targets),
                   batch_norm=data.get("batch_norm", LEGACY_BATCH_NORM))

    def with_targets(self, names: list[str]) -> LoRA:
        """The same settings on exactly the modules `names`."""
        return replace(self, target_modules=tuple(names))


def check_adapters(data: Any) -> str | None:
    """None when `data` is valid adapter JSON (`LoRA.to_json`'s form), else what is wrong, naming the key."""
    if not isinstance(data, dict):
        return f"must be a JSON object {{'kind': 'lora', ...}}, got {type(data).__name__}"
    if not set(KEYS) - {"batch_norm"} <= set(data) <= set(KEYS):  # without batch_norm: saved before it existed
        return f"must have exactly the keys {list(KEYS)}, got {sorted(map(str, data))}"
    batch_norm = data.get("batch_norm", LEGACY_BATCH_NORM)
    if batch_norm not in BATCH_NORM_MODES:
        return f"'batch_norm' must be one of {list(BATCH_NORM_MODES)}, got {_short(batch_norm)}"
    if data["kind"] != KIND:
        return f"'kind' must be {KIND!r} (the only adapter kind), got {data['kind']!r}"
    r = data["r"]
    if not isinstance(r, int) or isinstance(r, bool) or not 1 <= r <= MAX_RANK:
        return f"'r' (the rank) must be an integer from 1 to {MAX_RANK}, got {r!r}"
    alpha = data["alpha"]
    if alpha is not None and not (_number(alpha) and 0 < alpha <= 1e6):
        return f"'alpha' must be a positive number, got {alpha!r}"
    dropout = data["dropout"]
    if not (_number(dropout) and 0 <= dropout < 1):
        return f"'dropout' must be a number in [0, 1), got {dropout!r}"
    targets = data["target_modules"]
    if targets is None:
        return None
    if not isinstance(targets, (list, tuple)) or not 0 < len(targets) <= MAX_TARGETS:
        return f"'target_modules' must be null or a non-empty list of module names (at most {MAX_TARGETS}), got {_short(targets)}"
    bad = [t for t in targets if not isinstance(t, str) or not MODULE_PATTERN.match(t)]
    if bad:
        return (f"'target_modules' must hold module names or glob patterns (letters, digits, '_', '.', '-', '*', '?', '[]'), "
                f"got {_short(bad[0])}")
    return None


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
