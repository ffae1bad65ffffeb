"""No public name is shadowed by a submodule of the same name, whatever was imported first."""

from __future__ import annotations

import importlib
import pkgutil
import types

import pytest

PACKAGES = ["graftzoo", "graftzoo_vision", "graftzoo_timm", "graftzoo_torchvision", "graftzoo_packaged"]


@pytest.mark.parametrize("name", PACKAGES)
def test_every_export_survives_importing_every_submodule(name: str) -> None:
    package = importlib.import_module(name)
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{name}."):
        if not info.name.endswith(("__main__", "pytest_plugin")):
            importlib.import_module(info.name)
    shadowed = [export for export in getattr(package, "__all__", []) if isinstance(getattr(package, export), types.ModuleType)]
    assert shadowed == [], f"{name} exports {shadowed}, which submodules of the same name shadow"


def test_the_sdk_declares_only_names_it_has() -> None:
    sdk = importlib.import_module("graftzoo.sdk")
    assert sorted(sdk.__all__) == sorted(set(sdk.__all__))
    assert all(hasattr(sdk, name) for name in sdk.__all__)
