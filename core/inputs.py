"""`InputSpec`: what a body is built for besides its arch, as plain JSON (torch-free).

`{"kind": "vision/image", "n_in": 3}`, `{"kind": "text/tokens", "vocab_size": 6000, "pad_idx": 1}`,
`{"kind": "tabular/columns", "cardinalities": [...], "n_cont": 6}`: a registered input kind (the
name of its preprocessor) plus that kind's parameters. `n_in=` stays the shorthand for images.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from graftzoo.errors import ConfigError

IMAGE_KIND = "vision/image"  # the kind `n_in=` stands for (served by the graftzoo-vision plugin)
MAX_PARAMS_BYTES = 1 << 20  # parameters are small (sizes, cardinalities), never data
_KIND = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class InputSpec:
    """A registered input kind and its JSON parameters."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or not _KIND.fullmatch(self.kind):
            raise ConfigError(f"input kind {self.kind!r} must be a registered name 'namespace/name' (e.g. {IMAGE_KIND!r})")
        if "kind" in self.params:
            raise ConfigError("an InputSpec's params cannot hold another 'kind'")
        try:
            text = json.dumps(self.params, allow_nan=False, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"the parameters of input kind {self.kind!r} must be plain JSON: {exc}") from exc
        if len(text) > MAX_PARAMS_BYTES:
            raise ConfigError(f"the parameters of input kind {self.kind!r} are {len(text)} bytes; at most {MAX_PARAMS_BYTES}")

    @classmethod
    def image(cls, n_in: int = 3) -> InputSpec:
        """The image shorthand: `n_in` channels."""
        if not isinstance(n_in, int) or isinstance(n_in, bool) or not 1 <= n_in <= 1024:
            raise ConfigError(f"n_in must be an int from 1 to 1024 (image channels), got {n_in!r}")
        return cls(IMAGE_KIND, {"n_in": n_in})

    @classmethod
    def from_json(cls, data: Any) -> InputSpec:
        """`{"kind": ..., **params}` → InputSpec; a clear error for anything else."""
        if isinstance(data, InputSpec):
            return data
        if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
            raise ConfigError(f"inputs must be a JSON object with a 'kind', e.g. {{'kind': {IMAGE_KIND!r}, 'n_in': 3}}; got {data!r}"[:300])
        params = {k: v for k, v in data.items() if k != "kind"}
        return cls(data["kind"], json.loads(json.dumps(params)))

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **json.loads(json.dumps(self.params))}

    @property
    def n_in(self) -> int | None:
        """Image channels, when this kind has them."""
        value = self.params.get("n_in")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def with_params(self, **params: Any) -> InputSpec:
        return InputSpec(self.kind, {**self.params, **params})
