"""Fake installed plugin distributions, made at test time, and isolated registries over them."""

from __future__ import annotations

import importlib
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from graftzoo import registry
from graftzoo.registry import Registry


@dataclass
class FakePluginSite:
    """A folder on sys.path holding distributions with `graftzoo` entry points, like site-packages."""

    root: Path
    packages: list[str] = field(default_factory=list)

    def add(
        self,
        dist: str,
        *,
        plugin: str,
        manifest: str | None,
        version: str = "1.0",
        package: str | None = None,
        modules: dict[str, str] | None = None,
        manifest_file: str = "graftzoo.toml",
    ) -> Path:
        """Install a fake distribution `dist` whose entry point `plugin` names `package:manifest_file`.

        `modules` maps file names inside the package (e.g. `"hooks.py"`) to their source.
        `manifest=None` writes no manifest file (a broken plugin).
        """
        package = package or dist.replace("-", "_")
        _check_not_installed(package, self.root)
        pkg_dir = self.root / package
        pkg_dir.mkdir(parents=True, exist_ok=True)
        (pkg_dir / "__init__.py").write_text('"""A fake graftzoo plugin."""\n')
        if manifest is not None:
            (pkg_dir / manifest_file).write_text(textwrap.dedent(manifest))
        for name, source in (modules or {}).items():
            (pkg_dir / name).write_text(textwrap.dedent(source))
        for old in self.root.glob(f"{_normalize(dist)}-*.dist-info"):
            _remove_tree(old)
        info = self.root / f"{_normalize(dist)}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[graftzoo]\n{plugin} = {package}:{manifest_file}\n")
        (info / "top_level.txt").write_text(package + "\n")
        self.packages.append(package)
        importlib.invalidate_caches()
        return pkg_dir

    def registry(self, include_installed: bool = False) -> Registry:
        """A fresh registry over this site only (or with the real installed plugins too), made active."""
        path = [str(self.root)] + (sys.path if include_installed else [])
        built = Registry(search_path=path)
        registry.use(built)
        return built

    def forget_modules(self) -> None:
        """Drop the fake packages from sys.modules so another test can reuse their names."""
        for name in list(sys.modules):
            if name.split(".")[0] in self.packages:
                del sys.modules[name]


def arch_manifest(
    namespace: str, *names: str, api_version: int = 1, factory: str = "torchvision.models:resnet18", priority: int = 0
) -> str:
    """A minimal manifest registering `names` as archs of `namespace`, all built by `factory`."""
    entries = "".join(f'\n[[archs]]\nname = "{n}"\nfactory = "{factory}"\ncut = -2\nstats = "imagenet"\n' for n in names)
    head = f'[plugin]\nname = "{namespace}"\nnamespace = "{namespace}"\napi_version = {api_version}\npriority = {priority}\n'
    return head + entries


def _check_not_installed(package: str, root: Path) -> None:
    """Refuse a fake package that would shadow a real one: `forget_modules` would unload the real one."""
    import importlib.util

    spec = importlib.util.find_spec(package) if "." not in package else None
    folders = [Path(f) for f in (spec.submodule_search_locations or [])] if spec else []
    if spec is not None and not any(f.parent == root for f in folders):
        raise ValueError(f"package {package!r} is installed already: give the fake distribution another package=...")


def _normalize(dist: str) -> str:
    return dist.replace("-", "_")


def _remove_tree(path: Path) -> None:
    for child in path.iterdir():
        child.unlink()
    path.rmdir()
