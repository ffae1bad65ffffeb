"""`ModelConfig`: the one place the keys of a grafted model's config live.

`graft`, `from_config` and `load_head` all go through `ModelConfig` and `assemble`. Its JSON form
is what `GraftedModel.config` returns and what graftzoo.json stores under the same keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from graftzoo.errors import ConfigError
from graftzoo.inputs import InputSpec

KEYS = ("arch", "weights", "inputs", "body_kwargs", "cut", "head", "n_out", "head_kwargs", "task", "adapters")


@dataclass(frozen=True)
class ModelConfig:
    """Everything that rebuilds a grafted model: arch, body weights and inputs, cut, head and task."""

    arch: str
    head: str
    n_out: int
    task: str
    weights: str | None = None
    inputs: InputSpec = field(default_factory=InputSpec.image)
    cut: int | str | None = None
    head_kwargs: dict[str, Any] = field(default_factory=dict)
    body_kwargs: dict[str, Any] = field(default_factory=dict)  # the arch's settings (tabular layers, LSTM sizes)
    adapters: dict[str, Any] | None = None  # LoRA settings (graftzoo.adapters.LoRA.to_json), None: a plain body

    def __post_init__(self) -> None:
        if not isinstance(self.n_out, int) or isinstance(self.n_out, bool) or self.n_out < 1:
            raise ConfigError(f"n_out must be a positive int (the number of outputs/classes), got {self.n_out!r}")
        for name in ("head_kwargs", "body_kwargs"):
            if not isinstance(getattr(self, name), dict):
                raise ConfigError(f"{name} must be a JSON object, got {type(getattr(self, name)).__name__}")
        if self.adapters is not None:
            from graftzoo.adapters.lora import check_adapters

            problem = check_adapters(self.adapters)
            if problem:
                raise ConfigError(f"adapters {problem}")

    @property
    def n_in(self) -> int | None:
        """Image channels (the `n_in` shorthand), when the inputs have them."""
        return self.inputs.n_in

    def to_json(self) -> dict[str, Any]:
        """Plain JSON; `from_json` of it rebuilds an equal config. `adapters` appears only when set."""
        data = {
            "arch": self.arch, "weights": self.weights, "inputs": self.inputs.to_json(),
            "body_kwargs": dict(self.body_kwargs), "cut": self.cut,
            "head": self.head, "n_out": self.n_out, "head_kwargs": dict(self.head_kwargs), "task": self.task,
        }
        if self.adapters is not None:
            data["adapters"] = dict(self.adapters)
        return data

    @classmethod
    def from_json(cls, data: Any) -> ModelConfig:
        """From `to_json`'s form; the older form with `n_in` instead of `inputs` is read too."""
        if isinstance(data, ModelConfig):
            return data
        if not isinstance(data, dict):
            raise ConfigError(f"a model config must be a JSON object, got {type(data).__name__}")
        values = dict(data)
        if "inputs" not in values and "n_in" in values:
            values["inputs"] = InputSpec.image(values.pop("n_in")).to_json()
        values.pop("n_in", None)
        values.setdefault("body_kwargs", {})
        values.setdefault("adapters", None)
        missing = [k for k in KEYS if k not in values]
        unknown = sorted(set(values) - set(KEYS))
        if missing or unknown:
            raise ConfigError(f"model config lacks {missing} / has unknown keys {unknown}; its keys are {list(KEYS)}")
        values["inputs"] = InputSpec.from_json(values["inputs"])
        return cls(**values)

    def replace(self, **changes: Any) -> ModelConfig:
        return replace(self, **changes)
