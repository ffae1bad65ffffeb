"""`import graftzoo`, `graftzoo list` and `graftzoo info` stay light: no torch, no plugin code."""

from __future__ import annotations

import json
import os
import subprocess
import sys

HEAVY = ("torch", "torchvision", "timm", "graftzoo_vision", "graftzoo_torchvision", "graftzoo_timm", "graftzoo_packaged")
# The weight sources' `available` checks (files only: is the default weights file here?) that `list`
# and `info` run, and the light modules of their own plugin they import; nothing else of a plugin.
WEIGHT_CHECKS = {
    "graftzoo_packaged", "graftzoo_packaged.availability", "graftzoo_packaged.files",
    "graftzoo_timm", "graftzoo_timm.availability", "graftzoo_timm.hub_cache", "graftzoo_timm.weights",
    "graftzoo_torchvision", "graftzoo_torchvision.availability",
}


def _imported_after(code: str, env: dict[str, str] | None = None) -> set[str]:
    script = f"import sys\n{code}\nimport json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_graftzoo_imports_nothing_heavy() -> None:
    modules = _imported_after("import graftzoo; graftzoo.archs(); graftzoo.plugins()")
    assert not modules & set(HEAVY), modules & set(HEAVY)


def test_warm_list_and_info_do_not_import_torch(tmp_path) -> None:
    env = {**os.environ, "GRAFTZOO_HOME": str(tmp_path)}
    cli = "from graftzoo.registry.cli import main\nimport contextlib, io\n"
    run = "with contextlib.redirect_stdout(io.StringIO()): main({argv})"
    # the first (cold) run may import plugin code to fill the cache; the warm runs must not
    _imported_after(cli + run.format(argv="['list']"), env)
    _imported_after(cli + run.format(argv="['info', 'xresnet50']"), env)
    for argv in (["list"], ["list", "--kind", "heads", "--json"], ["info", "xresnet50"], ["plugins"]):
        modules = _imported_after(cli + run.format(argv=repr(argv)), env)
        heavy = {m for m in modules if m.split(".")[0] in HEAVY} - WEIGHT_CHECKS
        assert not heavy, (argv, heavy)


def test_predicting_an_image_does_not_import_plotting() -> None:
    """`graftzoo predict` opens images through `graftzoo_vision.data`; drawing code (matplotlib,
    about 0.7 s) is imported only when something is drawn."""
    modules = _imported_after("import graftzoo_vision.data, graftzoo_vision.image_preprocessor")
    assert "matplotlib" not in modules
