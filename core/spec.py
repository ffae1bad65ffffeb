"""Plain data describing what plugins register: archs, heads, tasks and weight sources.

These classes never import torch, so listing and describing the zoo stays fast.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass, field
from typing import Any

from graftzoo.inputs import IMAGE_KIND

Stats = tuple[tuple[float, ...], tuple[float, ...]]

IMAGENET_STATS: Stats = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
INCEPTION_STATS: Stats = ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
NAMED_STATS: dict[str, Stats] = {"imagenet": IMAGENET_STATS, "inception": INCEPTION_STATS}
CUT_NAME = re.compile(r"(?:[A-Za-z0-9_.-]+/)?[A-Za-z0-9_.-]+")


class SpecDict:
    """`to_dict`: a JSON-ready dict of every field of a spec dataclass."""

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(dataclasses.asdict(self))  # type: ignore[call-overload]  # only mixed into dataclasses


@dataclass(frozen=True)
class ArchSpec(SpecDict):
    """A registered architecture: how to build it, where to cut it, how to split it."""

    name: str
    factory: str
    factory_kwargs: dict[str, Any] = field(default_factory=dict)
    cut: int | str | None = None
    split: str | None = None
    body: str | None = None  # one "module:attr" building the whole Body (prefer `steps`)
    steps: dict[str, str] = field(default_factory=dict)  # build steps a plugin overrides: factory, weights, adapt, body
    inputs: str = IMAGE_KIND  # the input kind the arch consumes (a registered preprocessor)
    kwargs_schema: dict[str, Any] | None = None  # JSON Schema of `body_kwargs` (architecture settings), checked before building
    stats: Stats | None = None
    input_size: tuple[int, int, int] = (3, 224, 224)
    probe_size: int = 64
    pooled: bool = False
    num_features: int | None = None
    default_weights: str | None = None
    lora_targets: tuple[str, ...] | None = None  # layers LoRA adapts by default: names or globs under body.net
    family: str | None = None
    tags: tuple[str, ...] = ()
    description: str = ""
    plugin: str = ""
    distribution: str = ""

    @property
    def n_in(self) -> int:
        """Input channels of the architecture as registered (image archs)."""
        return self.input_size[0]

    @property
    def namespace(self) -> str:
        return self.name.split("/", 1)[0]


@dataclass(frozen=True)
class FactorySpec(SpecDict):
    """Something registered under a full name whose `factory` ("module:attr") is imported on use."""

    name: str
    factory: str
    description: str = ""
    plugin: str = ""
    distribution: str = ""


@dataclass(frozen=True)
class HeadSpec(FactorySpec):
    """A registered head kind: `factory(body, n_out, **kwargs) -> Head`."""

    task: str | None = None
    kwargs_schema: dict[str, Any] | None = None  # JSON Schema of the head's kwargs, checked before building


@dataclass(frozen=True)
class TaskSpec(FactorySpec):
    """A registered task: `factory(**kwargs) -> Task`."""

    head: str | None = None


@dataclass(frozen=True)
class CutSpec(FactorySpec):
    """A registered cut: `factory(model) -> nn.Module`, named so configs and saved heads can refer to it.

    A cut in a config or a saved head is an int or such a name, never a `"module:attr"` path: a
    pulled head can only pick among code its installed plugins registered.
    """


@dataclass(frozen=True)
class PreprocessorSpec(FactorySpec):
    """A registered input kind: `factory` is its `graftzoo.Preprocessor` subclass (raw items -> tensors)."""


@dataclass(frozen=True)
class DataSpec(FactorySpec):
    """A registered data section of `graftzoo train`: `factory(section, *, bs, seed) -> DataLoaders`.

    `section` is the config's `[data]` table without its `kind`; the factory checks its keys
    (a `ConfigError` naming `data.<key>` and the allowed values) and builds the loaders.
    """


@dataclass(frozen=True)
class SchemeSpec(SpecDict):
    """Something registered to serve the references that start with `scheme`."""

    name: str
    scheme: str
    factory: str
    description: str = ""
    plugin: str = ""
    distribution: str = ""


@dataclass(frozen=True)
class WeightSourceSpec(SchemeSpec):
    """A registered weight source, serving references `scheme:...`: `factory() -> WeightSource`.

    `available` ("module:attr", optional): `(ref, arch) -> bool | None`, whether the file behind `ref`
    is on this machine now (shipped in a package or cached); it checks files only and imports no torch,
    so `graftzoo list` can call it for every arch.
    """

    available: str | None = None


@dataclass(frozen=True)
class HubSpec(SchemeSpec):
    """A registered hub, serving references `scheme://ns/name[@rev]`: `factory() -> hub` with push/pull."""


SPEC_CLASSES: dict[str, type] = {
    "archs": ArchSpec,
    "heads": HeadSpec,
    "tasks": TaskSpec,
    "weights": WeightSourceSpec,
    "hubs": HubSpec,
    "cuts": CutSpec,
    "preprocessors": PreprocessorSpec,
    "data": DataSpec,
}


def spec_from_dict(kind: str, data: dict[str, Any]) -> Any:
    """Build the spec of `kind` from a manifest entry, turning lists back into tuples."""
    cls = SPEC_CLASSES[kind]
    known = _field_names(cls)
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown keys {unknown} in {kind} entry {data.get('name')!r}; known keys: {sorted(known)}")
    values = dict(data)
    if isinstance(values.get("stats"), str):
        if values["stats"] not in NAMED_STATS:
            raise ValueError(f"unknown stats name {values['stats']!r}; use one of {sorted(NAMED_STATS)} or [mean, std]")
        values["stats"] = NAMED_STATS[values["stats"]]
    if values.get("stats") is not None:
        mean, std = values["stats"]
        values["stats"] = (tuple(float(m) for m in mean), tuple(float(s) for s in std))
    if kind == "archs" and isinstance(values.get("cut"), str) and not is_cut_name(values["cut"]):
        raise ValueError(f"cut {values['cut']!r} must be an int or the name of a registered cut ([[cuts]]), not a code path")
    if kind == "archs" and values.get("lora_targets") is not None:
        from graftzoo.adapters.lora import MODULE_PATTERN

        bad = [t for t in values["lora_targets"] if not isinstance(t, str) or not MODULE_PATTERN.match(t)]
        if bad or not values["lora_targets"]:
            raise ValueError(f"lora_targets must be a non-empty list of module names or globs (never code), got {bad[:1] or '[]'}")
    for key in ("input_size", "tags", "lora_targets"):
        if key in values and values[key] is not None:
            values[key] = tuple(values[key])
    return cls(**values)


def is_cut_name(value: str) -> bool:
    """A registry name (`namespace/name` or a bare `name`), not a `"module:attr"` path or anything else."""
    return CUT_NAME.fullmatch(value) is not None


@functools.cache
def _field_names(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(cls))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
