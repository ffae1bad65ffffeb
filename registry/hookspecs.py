"""The hooks a plugin may implement for what a static manifest cannot say.

Every kind of spec (`graftzoo.spec.SPEC_CLASSES`) gets a listing hook `graftzoo_<kind>()`
(`graftzoo_archs`, `graftzoo_heads`, ...), so a kind core adds is listable by code with no change
here. Hooks only ever gain parameters: an implementation may accept fewer arguments than the spec.
Results are checked against the return annotations below before the registry uses them.
"""

from __future__ import annotations

from typing import Any, Callable

import pluggy

from graftzoo.spec import SPEC_CLASSES

PROJECT = "graftzoo"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

DESCRIBED_FIELDS = ("num_features", "pooled")  # what `graftzoo_describe_arch` may fill in


def _listing_hookspec(kind: str) -> Callable[[], list[dict[str, Any]]]:
    def listing() -> list[dict[str, Any]]:
        """Entries (manifest format) this plugin lists through code."""
        raise NotImplementedError  # a specification: pluggy calls the plugins' implementations, never this

    listing.__name__ = listing.__qualname__ = f"graftzoo_{kind}"
    listing.__doc__ = f"{kind} entries (manifest format) that cannot be listed statically; cached per installed versions."
    return hookspec(listing)


class Listings:
    """`graftzoo_<kind>()` for every registered kind of spec."""


for _kind in SPEC_CLASSES:
    setattr(Listings, f"graftzoo_{_kind}", staticmethod(_listing_hookspec(_kind)))


@hookspec(firstresult=True)
def graftzoo_describe_arch(name: str) -> dict[str, Any] | None:
    """Details of one arch that are costly to compute (`num_features`, `pooled`); cached once computed."""


def result_type(hook: str) -> Any:
    """The type a hook's result must have."""
    return dict[str, Any] | None if hook == "graftzoo_describe_arch" else list[dict[str, Any]]
