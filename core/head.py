"""The Head: a new network grafted onto a body, rebuilt from plain JSON kwargs."""

from __future__ import annotations

import json
from typing import Any

import torch
from torch import nn

from graftzoo.body import Body
from graftzoo.errors import ConfigError


class Head(nn.Module):
    """Base class of grafted heads.

    A head kind is registered as `factory(body, n_out, **kwargs) -> Head`; `kwargs` must be
    plain JSON so that `graftzoo.json` can rebuild the head. `graft_forward` is how the grafted
    model runs: most heads apply the body once, pair heads (siamese) or sequence heads (text)
    apply it their own way.
    """

    n_inputs = 1  # images per example the grafted model takes (a siamese head takes 2)

    def graft_forward(self, body: nn.Module, *inputs: torch.Tensor) -> torch.Tensor:
        return self(body(*inputs))

    def split(self, body: Body) -> list[list[nn.Parameter]]:
        """Parameter groups of body and head together: the body's groups, then the head as one group.

        Heads that train the body differently override this (siamese keeps the encoder as one group).
        """
        return body.param_groups() + [list(self.parameters())]


def check_json_kwargs(kwargs: dict[str, Any], head: str, schema: dict[str, Any] | None = None, what: str = "head") -> dict[str, Any]:
    """Return `kwargs` as plain JSON values (tuples become lists), checked against `schema`.

    `schema` is the JSON Schema a head (or an arch, `what="arch"`) declares in its manifest
    (`kwargs_schema`); kwargs read from a saved head reach a constructor only once they passed it.
    """
    try:
        values = json.loads(json.dumps(kwargs, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"{what} {head!r} kwargs must be plain JSON (numbers, strings, lists, dicts) so the model can be "
            f"rebuilt from graftzoo.json: {exc}"
        ) from exc
    if schema is not None:
        _check_schema(values, head, schema, what)
    elif values and what == "arch":
        raise ConfigError(f"arch {head!r} declares no settings (no kwargs_schema in its manifest), so it takes no body_kwargs; got {sorted(values)}")
    return values


def _check_schema(values: dict[str, Any], head: str, schema: dict[str, Any], what: str) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(values), key=lambda e: list(e.absolute_path))
    if errors:
        problems = "; ".join(f"{'.'.join(map(str, e.absolute_path)) or 'kwargs'}: {e.message}" for e in errors[:5])
        known = sorted(schema.get("properties", {}))
        raise ConfigError(f"{what} {head!r} does not take these kwargs ({problems}). It takes: {known}.")
