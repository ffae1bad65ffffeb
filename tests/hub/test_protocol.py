"""`Hub`: the local hub, the HF hub and plugin hubs all satisfy it; a plugin hub that does not is a clear error."""

from __future__ import annotations

from typing import Any

import pytest

from graftzoo.errors import PluginError
from graftzoo.hub import HfHub, Hub, LocalHub, get_hub


def test_builtin_hubs_are_hubs(tmp_path: Any) -> None:
    assert isinstance(LocalHub(tmp_path), Hub)
    assert isinstance(HfHub(), Hub)
    assert isinstance(get_hub("local"), Hub) and isinstance(get_hub("hf"), Hub)


def test_a_plugin_hub_without_pull_is_refused(fake_plugin_site: Any) -> None:
    hub_module = '''
class HalfHub:
    kind = "half"

    def push(self, folder, repo_id, commit_message=None):
        raise AssertionError("never called")
'''
    manifest = '[plugin]\nnamespace = "half"\napi_version = 1\n[[hubs]]\nname = "half"\nscheme = "half"\nfactory = "half_dist.hub:HalfHub"\n'
    fake_plugin_site.add("half-dist", plugin="half", manifest=manifest, modules={"hub.py": hub_module})
    fake_plugin_site.registry(include_installed=True)
    with pytest.raises(PluginError, match=r"'half' hub \(half_dist.hub:HalfHub\) is not a Hub"):
        get_hub("half")
