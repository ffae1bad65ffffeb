"""Type-check core, registry and every plugin under plugins/*/ with mypy.

The import package `graftzoo` lives in core/ and `graftzoo.registry` in registry/ (setuptools'
package-dir), which mypy cannot follow through the editable install. This script builds
.typecheck/graftzoo, a throw-away tree of symlinks with the installed layout, puts it and each
plugin folder on MYPYPATH, runs mypy over every package (settings in pyproject.toml [tool.mypy])
and reports errors under their real paths (core/..., registry/...).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TREE = ROOT / ".typecheck"


def build_tree() -> Path:
    """Lay out .typecheck/graftzoo as the installed package: core/'s entries plus registry/."""
    shutil.rmtree(TREE, ignore_errors=True)
    package = TREE / "graftzoo"
    package.mkdir(parents=True)
    for entry in sorted((ROOT / "core").iterdir()):
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    (package / "registry").symlink_to(ROOT / "registry")
    return TREE


def plugin_packages() -> list[tuple[Path, str]]:
    """(plugin folder, import package) for each plugins/<name>/graftzoo_<name>/ package."""
    found = []
    for folder in sorted((ROOT / "plugins").iterdir()):
        if not (folder / "pyproject.toml").is_file():
            continue
        for package in sorted(folder.glob("graftzoo_*/__init__.py")):
            found.append((folder, package.parent.name))
    return found


def real_path(line: str) -> str:
    """Rewrite a .typecheck/graftzoo/... path in mypy's output to core/... or registry/...."""
    prefix = ".typecheck/graftzoo/"
    if not line.startswith(prefix):
        return line
    rest = line[len(prefix):]
    if rest.startswith("registry/"):
        return rest
    return "core/" + rest


def main(argv: list[str]) -> int:
    tree = build_tree()
    plugins = plugin_packages()
    mypypath = [str(tree.relative_to(ROOT))] + [str(folder.relative_to(ROOT)) for folder, _ in plugins]
    env = dict(os.environ, MYPYPATH=os.pathsep.join(mypypath))
    command = [sys.executable, "-m", "mypy", "-p", "graftzoo"]
    for _, package in plugins:
        command += ["-p", package]
    result = subprocess.run(command + argv, cwd=ROOT, env=env, capture_output=True, text=True)
    for line in result.stdout.splitlines():
        print(real_path(line))
    sys.stderr.write(result.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
