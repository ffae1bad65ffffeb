"""The registry: every installed plugin's archs, heads, tasks, weight sources and hubs, looked up by name."""

from __future__ import annotations

import dataclasses
import fnmatch
from typing import Any, Iterable, TypeVar

from graftzoo.errors import NameCollisionError, PluginError
from graftzoo.registry.cache import ListingCache, cache_key
from graftzoo.registry.discovery import DISABLED, FAILED, OK, PluginRecord, discover, strict_plugins
from graftzoo.registry.isolation import PluginTimeoutError, call_bounded
from graftzoo.registry.lookup import kind_word, resolve_name
from graftzoo.registry.manifest import KINDS, CommandSpec, qualify
from graftzoo.registry.schema import check, check_fields
from graftzoo.spec import SPEC_CLASSES, ArchSpec, HeadSpec, HubSpec, TaskSpec, WeightSourceSpec, spec_from_dict

S = TypeVar("S")
COMMANDS = "commands"  # the registry's own kind: subcommands plugins add to `graftzoo`


class Registry:
    """A view of the plugins found on `search_path` (default: the running interpreter's sys.path)."""

    def __init__(self, search_path: Iterable[str] | None = None) -> None:
        self.records = discover(search_path)
        self.strict = strict_plugins()
        if self.strict:
            for record in self.records:
                if record.status not in (OK, DISABLED):
                    raise PluginError(f"plugin {record.name!r} ({record.distribution}) {record.status}: {record.error}")
        self.cache = ListingCache(cache_key(self.records))
        self._entries: dict[str, dict[str, list[Any]]] = {}
        self._manager: Any = None
        self.priorities = _namespace_priorities(self.loaded())
        self.suggest: dict[str, str] = {}
        for record in sorted(self.loaded(), key=lambda r: (-r.manifest.priority, r.name)):  # type: ignore[union-attr]
            for namespace, dist in record.manifest.suggest.items():  # type: ignore[union-attr]
                self.suggest.setdefault(namespace, dist)

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
        """The spec of `kind` registered under `name` (full, or bare when it resolves to one)."""
        specs = self._specs(kind)
        full = resolve_name(kind, name, specs, self.suggest, self.priorities)
        claims = specs[full]
        if len(claims) > 1:
            raise NameCollisionError(f"{full!r} is registered by both {_claimants(claims)}: uninstall or disable one (GRAFTZOO_DISABLE_PLUGINS).")
        return claims[0]

    def spec(self, cls: type[S], name: str) -> S:
        """The spec of class `cls` (`ArchSpec`, `HeadSpec`, any class of `SPEC_CLASSES`) registered under `name`."""
        kind = next((k for k, c in SPEC_CLASSES.items() if c is cls), None)
        if kind is None:
            raise ValueError(f"{cls.__name__} is no registered kind of spec; use one of {[c.__name__ for c in SPEC_CLASSES.values()]}")
        found = self.get(kind, name)
        assert isinstance(found, cls)
        return found

    def get_arch(self, name: str) -> ArchSpec:
        """The arch spec, with costly details (`num_features`) filled in from the plugin when known."""
        spec = self.spec(ArchSpec, name)
        if spec.num_features is not None:
            return spec
        details = self._describe(spec)
        return spec_from_dict("archs", {**spec.to_dict(), **details}) if details else spec

    def get_head(self, name: str) -> HeadSpec:
        return self.spec(HeadSpec, name)

    def get_task(self, name: str) -> TaskSpec:
        return self.spec(TaskSpec, name)

    def get_weight_source(self, name: str) -> WeightSourceSpec:
        return self.spec(WeightSourceSpec, name)

    def get_hub(self, name: str) -> HubSpec:
        return self.spec(HubSpec, name)

    def default_head(self, task: str) -> HeadSpec:
        """The head a task is grafted with by default: the task's own `head`, else the head made for it
        (`HeadSpec.task`), the highest-priority one when several plugins make one."""
        task_spec = self.get_task(task)
        if task_spec.head:
            return self.get_head(task_spec.head)
        made_for = [n for n in self.names("heads") if self._specs("heads")[n][0].task == task_spec.name]
        if made_for:
            best = max(self.priorities.get(n.split("/", 1)[0], 0) for n in made_for)
            top = [n for n in made_for if self.priorities.get(n.split("/", 1)[0], 0) == best]
            if len(top) == 1:
                return self.get_head(top[0])
        found = ", ".join(made_for) or "none is installed"
        raise PluginError(f"task {task_spec.name!r} has no single default head ({found}): pass head=... to choose one")

    def command(self, name: str) -> CommandSpec:
        """The command a plugin registers under `name` (`demo` resolves like any bare name)."""
        table = self._commands()
        full = resolve_name(COMMANDS, name, table, self.suggest, self.priorities)
        claims = table[full]
        if len(claims) > 1:
            raise NameCollisionError(f"command {full!r} is registered by both {_claimants(claims)}: disable one (GRAFTZOO_DISABLE_PLUGINS).")
        return claims[0]

    def commands(self, pattern: str | None = None) -> list[str]:
        """Sorted full names of the commands plugins register."""
        return sorted(n for n in self._commands() if not pattern or fnmatch.fnmatch(n.split("/", 1)[1], pattern))

    # -- schemes -----------------------------------------------------------------------------
    def weight_source_for(self, scheme: str) -> WeightSourceSpec:
        """The weight source spec serving references `scheme:...`."""
        found = self.by_scheme("weights", scheme)
        assert isinstance(found, WeightSourceSpec)
        return found

    def schemes(self, kind: str) -> list[str]:
        """The schemes that registered weight sources or hubs serve."""
        return sorted(self._scheme_claims(kind))

    def by_scheme(self, kind: str, scheme: str) -> Any:
        """The weight source or hub spec serving references of `scheme`; two plugins claiming it is an error."""
        claims = self._scheme_claims(kind).get(scheme, [])
        if len(claims) > 1:
            raise NameCollisionError(
                f"the {scheme!r} scheme of {kind} is claimed by both {_claimants(claims)}: "
                "uninstall or disable one (GRAFTZOO_DISABLE_PLUGINS)."
            )
        if not claims:
            raise PluginError(f"no {kind_word(kind)} serves '{scheme}:' references; registered schemes: {self.schemes(kind)}")
        return claims[0]

    # -- problems ---------------------------------------------------------------------------
    def collisions(self, kind: str) -> dict[str, list[str]]:
        """Full names claimed by more than one plugin, with the claiming distributions."""
        return {n: [s.distribution for s in c] for n, c in self._specs(kind).items() if len(c) > 1}

    def scheme_collisions(self, kind: str) -> dict[str, list[str]]:
        """Schemes claimed by more than one registered spec, with the claiming distributions."""
        if not _has_scheme(kind):
            return {}
        return {s: [c.distribution for c in claims] for s, claims in self._scheme_claims(kind).items() if len(claims) > 1}

    def problems(self, kinds: Iterable[str] = KINDS) -> list[str]:
        """One line per clash the registry refuses to settle: names, schemes and shared namespaces."""
        lines = []
        for kind in kinds:
            word = kind_word(kind)
            lines += [f"{word} {n!r} is claimed by {' and '.join(d)}: it resolves to neither" for n, d in self.collisions(kind).items()]
            lines += [f"{word} scheme '{s}:' is claimed by {' and '.join(d)}: it resolves to neither"
                      for s, d in self.scheme_collisions(kind).items()]
        owners: dict[str, list[str]] = {}
        for record in self.loaded():
            owners.setdefault(record.manifest.namespace, []).append(record.distribution)  # type: ignore[union-attr]
        lines += [f"namespace {ns!r} is declared by {' and '.join(d)}" for ns, d in owners.items() if len(d) > 1]
        return lines

    # -- building the tables --------------------------------------------------------------
    def _scheme_claims(self, kind: str) -> dict[str, list[Any]]:
        if not _has_scheme(kind):
            raise ValueError(f"{kind} are not served by scheme; kinds with schemes: {[k for k in KINDS if _has_scheme(k)]}")
        claims: dict[str, list[Any]] = {}
        for specs in self._specs(kind).values():
            for spec in specs:
                claims.setdefault(spec.scheme, []).append(spec)
        return claims

    def _specs(self, kind: str) -> dict[str, list[Any]]:
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; use one of {list(KINDS)}")
        if kind not in self._entries:
            table: dict[str, list[Any]] = {}
            for record in self.loaded():
                try:  # entries were checked when parsed; a damaged cache file fails only its plugin
                    specs = [spec_from_dict(kind, {**entry, "plugin": record.name, "distribution": record.distribution})
                             for entry in self._plugin_entries(record, kind)]
                except (TypeError, ValueError, AttributeError, KeyError) as exc:
                    self._fail(record, exc)
                    continue
                for spec in specs:
                    table.setdefault(spec.name, []).append(spec)
            self._entries[kind] = table
        return self._entries[kind]

    def _commands(self) -> dict[str, list[CommandSpec]]:
        if COMMANDS not in self._entries:
            table: dict[str, list[Any]] = {}
            for record in self.loaded():
                for entry in record.manifest.commands:  # type: ignore[union-attr]
                    spec = CommandSpec(**{**entry, "plugin": record.name, "distribution": record.distribution})
                    table.setdefault(spec.name, []).append(spec)
            self._entries[COMMANDS] = table
        return self._entries[COMMANDS]

    def _plugin_entries(self, record: PluginRecord, kind: str) -> list[dict[str, Any]]:
        manifest = record.manifest
        assert manifest is not None
        entries = list(manifest.entries.get(kind, []))
        if kind not in manifest.dynamic:
            return entries
        cache_name = f"{record.name}:{kind}"
        dynamic = self.cache.get("listing", cache_name)
        if dynamic is None:
            try:
                raw = self._call_hook(record, f"graftzoo_{kind}")
                dynamic = [qualify(kind, entry, manifest.namespace) for entry in raw or []]
            except Exception as exc:  # a broken plugin must not break the registry
                self._fail(record, exc)
                return []
            self.cache.put("listing", cache_name, dynamic)
        return entries + dynamic

    def _describe(self, spec: ArchSpec) -> dict[str, Any]:
        details = self.cache.get("describe", spec.name)
        if details is not None:
            return details
        record = next((r for r in self.loaded() if r.name == spec.plugin), None)
        if record is None or record.manifest is None or record.manifest.hooks is None:
            return {}
        try:
            details = self._call_hook(record, "graftzoo_describe_arch", name=spec.name) or {}
            details = {k: v for k, v in details.items() if k in _described_fields()}
            check_fields(details, ArchSpec, f"plugin {record.name!r}: graftzoo_describe_arch({spec.name!r})")
        except PluginTimeoutError as exc:  # a hung plugin is failed: never wait on it twice
            self._fail(record, exc)
            return {}
        except Exception as exc:  # one arch that cannot be described does not fail its plugin
            if self.strict:
                raise PluginError(f"plugin {record.name!r} cannot describe {spec.name!r}: {exc}") from exc
            return {}
        self.cache.put("describe", spec.name, details)
        return details

    def _call_hook(self, record: PluginRecord, hook: str, **kwargs: Any) -> Any:
        """Call one plugin's implementation of `hook`, bounded in time, and check the result's type."""
        from graftzoo.registry.hookspecs import result_type

        manager = self._plugin_manager(record)
        impls = [i for i in getattr(manager.hook, hook).get_hookimpls() if i.plugin_name == record.name]
        if not impls:
            return None
        impl = impls[0]
        args = {k: v for k, v in kwargs.items() if k in impl.argnames}
        result = call_bounded(lambda: impl.function(**args), f"plugin {record.name!r} hook {hook}()")
        check(result, result_type(hook), f"plugin {record.name!r}: {hook}() result")
        return result

    def _plugin_manager(self, record: PluginRecord) -> Any:
        """The pluggy manager, with `record`'s hooks module imported (bounded), registered and validated."""
        if self._manager is None:
            import pluggy

            from graftzoo.registry import hookspecs

            self._manager = pluggy.PluginManager(hookspecs.PROJECT)
            self._manager.add_hookspecs(hookspecs)
            self._manager.add_hookspecs(hookspecs.Listings)
            for other in self.records:
                if other.status != OK:
                    self._manager.set_blocked(other.name)
        manager = self._manager
        if manager.is_blocked(record.name):
            raise PluginError(f"plugin {record.name!r} is blocked: {record.error}")
        if manager.get_plugin(record.name) is None:
            module = record.manifest.hooks if record.manifest else None
            if not module:
                raise PluginError(f"plugin {record.name!r} declares dynamic kinds but no [plugin] hooks module")
            call_bounded(lambda: _register(manager, module, record.name), f"plugin {record.name!r} hooks module {module!r}")
        return manager

    def _fail(self, record: PluginRecord, exc: Exception) -> None:
        record.status = FAILED
        record.error = f"{type(exc).__name__}: {exc}"
        if self._manager is not None:
            if self._manager.get_plugin(record.name) is not None:
                self._manager.unregister(name=record.name)
            self._manager.set_blocked(record.name)
        if self.strict:
            raise PluginError(f"plugin {record.name!r} ({record.distribution}) failed: {record.error}") from exc


def _register(manager: Any, module_name: str, plugin: str) -> None:
    """Import a hooks module and register it; hooks pluggy cannot match to a spec are refused."""
    import importlib

    from pluggy import PluginValidationError

    manager.register(importlib.import_module(module_name), name=plugin)
    try:
        manager.check_pending()
    except PluginValidationError as exc:
        manager.unregister(name=plugin)
        raise PluginError(f"hooks module {module_name!r}: {exc}") from exc


def _has_scheme(kind: str) -> bool:
    return kind in SPEC_CLASSES and any(f.name == "scheme" for f in dataclasses.fields(SPEC_CLASSES[kind]))


def _described_fields() -> tuple[str, ...]:
    from graftzoo.registry.hookspecs import DESCRIBED_FIELDS

    return DESCRIBED_FIELDS


def _namespace_priorities(records: list[PluginRecord]) -> dict[str, int]:
    """Each namespace's bare-name priority; a namespace several plugins declare takes the lowest, so no
    plugin raises another's rank."""
    ranks: dict[str, int] = {}
    for record in records:
        assert record.manifest is not None
        namespace, priority = record.manifest.namespace, record.manifest.priority
        ranks[namespace] = min(ranks.get(namespace, priority), priority)
    return ranks


def _claimants(claims: list[Any]) -> str:
    return " and ".join(f"{s.distribution} (plugin {s.plugin})" for s in claims)
