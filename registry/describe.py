"""What `graftzoo info NAME` shows for an arch, head, task or weight source."""

from __future__ import annotations

from typing import Any

from graftzoo.errors import UnknownNameError
from graftzoo.registry.catalog import Registry
from graftzoo.registry.manifest import KINDS


def describe(registry: Registry, name: str) -> dict[str, Any]:
    """A flat dict describing `name`; archs come first when a name exists in several kinds."""
    first_error: UnknownNameError | None = None
    for kind in KINDS:
        try:
            spec = registry.get_arch(name) if kind == "archs" else registry.get(kind, name)
        except UnknownNameError as exc:
            first_error = first_error or exc
            continue
        return _describe_arch(registry, spec) if kind == "archs" else {"kind": kind.removesuffix("s"), **spec.to_dict()}
    assert first_error is not None
    raise first_error


def _describe_arch(registry: Registry, spec: Any) -> dict[str, Any]:
    from graftzoo.inputs import IMAGE_KIND
    from graftzoo.registry.availability import describe_status, weights_status

    image = spec.inputs == IMAGE_KIND
    return {
        "kind": "arch",
        "name": spec.name,
        "plugin": f"{spec.plugin} ({spec.distribution})",
        "family": spec.family,
        "factory": spec.factory,
        "cut": spec.cut if spec.body is None else f"{spec.cut if spec.cut is not None else 'features'} (body: {spec.body})",
        "split": spec.split or ("group_matcher" if spec.body else "even split of the body's children"),
        "inputs": spec.inputs,
        "stats": {"mean": list(spec.stats[0]), "std": list(spec.stats[1])} if spec.stats and image else None,
        "input_size": list(spec.input_size) if image else None,
        "num_features": spec.num_features,
        "pooled_body": spec.pooled,
        "default_weights": spec.default_weights,
        "weights_available": describe_status(weights_status(registry, spec)),
        "tags": list(spec.tags),
        "description": spec.description,
    }
