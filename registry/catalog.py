"""The registry: every installed plugin's archs, heads, tasks and weight sources, looked up by name."""

from __future__ import annotations

import fnmatch
from typing import Any, Iterable

from graftzoo.errors import NameCollisionError, PluginError
from graftzoo.registry.cache import ListingCache, cache_key
from graftzoo.registry.discovery import FAILED, OK, PluginRecord, discover, strict_plugins
from graftzoo.registry.lookup import resolve_name
from graftzoo.registry.manifest import KINDS, ManifestError, qualify
from graftzoo.spec import ArchSpec, spec_from_dict


class Registry:
    """A view of the plugins found on `search_path` (default: the running interpreter's sys.path)."""

    def __init__(self, search_path: Iterable[str] | None = None) -> None:
        self.records = discover(search_path)
        self.strict = strict_plugins()
        if self.strict:
            for record in self.records:
                if record.status not in (OK, "disabled"):
                    raise PluginError(f"plugin {record.name!r} ({record.distribution}) {record.status}: {record.error}")
        self.cache = ListingCache(cache_key(self.records))
        self._entries: dict[str, dict[str, list[Any]]] = {}
        self._hooks: dict[str, Any] = {}
        self.suggest: dict[str, str] = {}
        for record in self.loaded():
            self.suggest.update(record.manifest.suggest)

    def loaded(self) -> list[PluginRecord]:
        """Plugins whose manifest was read and accepted."""
        return [r for r in self.records if r.status == OK and r.manifest is not None]

    # -- listing ---------------------------------------------------------------------------
    def names(self, kind: str, pattern: str | None = None) -> list[str]:
        """Sorted full names of `kind`; `pattern` is a shell wildcard over full or bare names."""
        names = sorted(self._specs(kind))
        if pattern:
            names = [n for n in names if fnmatch.fnmatch(n, pattern) or fnmatch.fnmatch(n.split("/", 1)[1], pattern)]
        return names

    def get(self, kind: str, name: str) -> Any:
        """The spec registered under `name` (full, or bare when it resolves to one)."""
        specs = self._specs(kind)
        full = resolve_name(kind, name, specs, self.suggest)
        claims = specs[full]
        if len(claims) > 1:
            dists = " and ".join(f"{s.distribution} (plugin {s.plugin})" for s in claims)
            raise NameCollisionError(f"{full!r} is registered by both {dists}: uninstall or disable one (GRAFTZOO_DISABLE_PLUGINS).")
        return claims[0]

    def get_arch(self, name: str) -> ArchSpec:
        """The arch spec, with costly details (`num_features`) filled in from the plugin when known."""
        spec = self.get("archs", name)
        if spec.num_features is not None:
            return spec
        details = self._describe(spec)
        return spec_from_dict("archs", {**spec.to_dict(), **details}) if details else spec

    def weight_source_for(self, scheme: str) -> Any:
        """The weight source spec serving references `scheme:...`."""
        return self.by_scheme("weights", scheme)

    def schemes(self, kind: str) -> list[str]:
        """The schemes that registered weight sources or hubs serve."""
        return sorted({claims[0].scheme for claims in self._specs(kind).values()})

    def by_scheme(self, kind: str, scheme: str) -> Any:
        """The weight source or hub spec serving references of `scheme`."""
        for claims in self._specs(kind).values():
            if claims[0].scheme == scheme:
                return claims[0]
        word = "weight source" if kind == "weights" else "hub"
        raise PluginError(f"no {word} serves '{scheme}:' references; registered schemes: {self.schemes(kind)}")

    def collisions(self, kind: str) -> dict[str, list[str]]:
        """Full names claimed by more than one plugin, with the claiming distributions."""
        return {n: [s.distribution for s in c] for n, c in self._specs(kind).items() if len(c) > 1}

    # -- building the tables --------------------------------------------------------------
    def _specs(self, kind: str) -> dict[str, list[Any]]:
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; use one of {list(KINDS)}")
        if kind not in self._entries:
            table: dict[str, list[Any]] = {}
            for record in self.loaded():
                for entry in self._plugin_entries(record, kind):
                    spec = spec_from_dict(kind, {**entry, "plugin": record.name, "distribution": record.distribution})
                    table.setdefault(spec.name, []).append(spec)
            self._entries[kind] = table
        return self._entries[kind]

    def _plugin_entries(self, record: PluginRecord, kind: str) -> list[dict[str, Any]]:
        manifest = record.manifest
        entries = list(manifest.entries.get(kind, []))
        if kind not in manifest.dynamic or record.status != OK:
            return entries
        cache_name = f"{record.name}:{kind}"
        dynamic = self.cache.get("listing", cache_name)
        if dynamic is None:
            try:
                raw = self._call_hook(record, f"graftzoo_{kind}") or []
                dynamic = [qualify(kind, entry, manifest.namespace) for entry in raw]
            except Exception as exc:  # a broken plugin must not break the registry
                self._fail(record, exc)
                return entries
            self.cache.put("listing", cache_name, dynamic)
        return entries + dynamic

    def _describe(self, spec: ArchSpec) -> dict[str, Any]:
        details = self.cache.get("describe", spec.name)
        if details is not None:
            return details
        record = next((r for r in self.loaded() if r.name == spec.plugin), None)
        if record is None or record.manifest.hooks is None:
            return {}
        try:
            details = self._call_hook(record, "graftzoo_describe_arch", name=spec.name) or {}
        except Exception as exc:  # one arch that cannot be described does not fail its plugin
            if self.strict:
                raise PluginError(f"plugin {record.name!r} cannot describe {spec.name!r}: {exc}") from exc
            return {}
        self.cache.put("describe", spec.name, details)
        return details

    def _call_hook(self, record: PluginRecord, hook: str, **kwargs: Any) -> Any:
        """Call one plugin's implementation of `hook`, importing its hooks module on first use."""
        manager = self._plugin_manager(record)
        impls = [i for i in getattr(manager.hook, hook).get_hookimpls() if i.plugin_name == record.name]
        if not impls:
            return None
        impl = impls[0]
        return impl.function(**{k: v for k, v in kwargs.items() if k in impl.argnames})

    def _plugin_manager(self, record: PluginRecord) -> Any:
        if "manager" not in self._hooks:
            import pluggy

            from graftzoo.registry import hookspecs

            manager = pluggy.PluginManager(hookspecs.PROJECT)
            manager.add_hookspecs(hookspecs)
            self._hooks["manager"] = manager
        manager = self._hooks["manager"]
        if manager.get_plugin(record.name) is None:
            import importlib

            if not record.manifest.hooks:
                raise ManifestError(f"plugin {record.name!r} declares dynamic kinds but no [plugin] hooks module")
            manager.register(importlib.import_module(record.manifest.hooks), name=record.name)
        return manager

    def _fail(self, record: PluginRecord, exc: Exception) -> None:
        record.status = FAILED
        record.error = f"{type(exc).__name__}: {exc}"
        if self.strict:
            raise PluginError(f"plugin {record.name!r} ({record.distribution}) failed: {record.error}") from exc
