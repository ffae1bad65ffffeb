"""Resolve the lazily imported `"module:attr"` references that manifests use."""

from __future__ import annotations

import importlib
from typing import Any

from graftzoo.errors import ConfigError


def import_attr(ref: str) -> Any:
    """Import `"package.module:attr.sub"` and return the attribute."""
    module_name, sep, attr_path = ref.partition(":")
    if not sep or not module_name or not attr_path:
        raise ConfigError(f"{ref!r} is not a 'module:attr' reference (example: 'torchvision.models:resnet34').")
    obj: Any = importlib.import_module(module_name)
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ConfigError(f"{module_name!r} has no attribute {attr_path!r} (from reference {ref!r}).") from None
    return obj
