"""`assemble`: the one path from a `ModelConfig` to a `GraftedModel` (used by graft, from_config, load_head)."""

from __future__ import annotations

from typing import Any, Callable

from graftzoo.body import Body
from graftzoo.building import arch_spec, create_body
from graftzoo.errors import ConfigError
from graftzoo.head import check_json_kwargs
from graftzoo.imports import import_attr
from graftzoo.model_config import ModelConfig
from graftzoo.spec import ArchSpec, HeadSpec, TaskSpec

BeforeHead = Callable[[Body, Callable[..., Any], ModelConfig], None]


def resolve(config: ModelConfig, arch: ArchSpec | None = None) -> tuple[ArchSpec, HeadSpec, TaskSpec]:
    """The arch (`arch` itself when given, registered or not), head and task a config names."""
    from graftzoo.registry import current

    registry = current()
    return arch or arch_spec(config.arch), registry.get("heads", config.head), registry.get("tasks", config.task)


def assemble(config: ModelConfig, *, arch: ArchSpec | None = None, before_head: BeforeHead | None = None) -> Any:
    """Build the body, check the head kwargs against the head's schema, graft the head, attach the task.

    `before_head(body, head_factory, config)` runs once the body exists and before the head is
    allocated (load_head sizes the head on the meta device there and checks the stored tensors).
    """
    from graftzoo.grafting import GraftedModel

    arch, head_spec, task_spec = resolve(config, arch)
    kwargs = check_json_kwargs(config.head_kwargs, head_spec.name, head_spec.kwargs_schema)
    body = create_body(arch, weights=config.weights, cut=config.cut, inputs=config.inputs, body_kwargs=config.body_kwargs)
    adapters = None
    if config.adapters is not None:
        from graftzoo.adapters.peft_layers import apply_adapters

        adapters = apply_adapters(body, config.adapters)  # LoRA on the named layers, before the head sizes itself
    factory = import_attr(head_spec.factory)
    full = config.replace(arch=arch.name, head=head_spec.name, task=task_spec.name, head_kwargs=kwargs,
                          weights=body.weights, inputs=body.inputs, body_kwargs=dict(body.settings), adapters=adapters)
    if before_head is not None:
        before_head(body, factory, full)
    try:
        head = factory(body, full.n_out, **kwargs)
    except TypeError as exc:
        raise ConfigError(f"head {head_spec.name!r} cannot be built from kwargs {kwargs}: {exc}") from exc
    return GraftedModel(body, head, task=import_attr(task_spec.factory)(), config=full)
