"""Check that a plugin's manifest and its hooks agree, for plugin authors' test suites."""

from __future__ import annotations

import importlib

from graftzoo.imports import import_attr
from graftzoo.registry import Registry, current
from graftzoo.registry.manifest import KINDS


def manifest_problems(plugin: str, reg: Registry | None = None, import_factories: bool = False) -> list[str]:
    """Everything wrong with `plugin`'s registration; an empty list when manifest and hooks agree.

    Checked: the plugin loaded; every dynamic kind it declares is served by a hook and every kind
    its hooks serve is declared dynamic; dynamic entries do not repeat static ones; names stay in
    the plugin's namespace; with `import_factories`, every `module:attr` reference imports.
    """
    reg = reg or current()
    record = next((r for r in reg.records if r.name == plugin), None)
    if record is None:
        return [f"plugin {plugin!r} is not installed"]
    if record.status != "ok" or record.manifest is None:
        return [f"plugin {plugin!r} {record.status}: {record.error}"]
    manifest, problems = record.manifest, []
    hooks = importlib.import_module(manifest.hooks) if manifest.hooks else None
    for kind in KINDS:
        served = hooks is not None and hasattr(hooks, f"graftzoo_{kind}")
        if kind in manifest.dynamic and not served:
            problems.append(f"declares dynamic {kind} but its hooks module has no graftzoo_{kind}")
        if served and kind not in manifest.dynamic:
            problems.append(f"hooks serve {kind} but the manifest does not declare it dynamic")
        static = {e["name"] for e in manifest.entries.get(kind, [])}
        names = reg.names(kind)
        mine = [n for n in names if any(s.plugin == plugin for s in reg._specs(kind)[n])]
        problems += [f"{kind} {n!r} is outside namespace {manifest.namespace!r}" for n in mine if not n.startswith(manifest.namespace + "/")]
        dynamic = [n for n in mine if n not in static]
        if kind in manifest.dynamic and not dynamic:
            problems.append(f"hooks registered no {kind}")
        if import_factories:
            for name in mine:
                spec = reg.get(kind, name)
                cut = getattr(spec, "cut", None)
                if isinstance(cut, str) and cut not in reg.names("cuts") and f"{manifest.namespace}/{cut}" not in reg.names("cuts"):
                    problems.append(f"{kind} {name!r}: cut {cut!r} is not a registered cut name")
                for ref in (getattr(spec, "factory", None), getattr(spec, "body", None), getattr(spec, "split", None)):
                    if ref:
                        try:
                            import_attr(ref)
                        except Exception as exc:  # report every broken reference, not just the first
                            problems.append(f"{kind} {name!r}: {ref!r} does not import ({exc})")
    if record.status != "ok":
        problems.append(f"hooks failed: {record.error}")
    return problems
