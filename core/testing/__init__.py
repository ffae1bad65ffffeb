"""Test helpers for graftzoo and its plugin authors.

`FakePluginSite` installs fake plugin distributions at test time; `manifest_problems` checks a
plugin's manifest against its hooks; `graftzoo.testing.pytest_plugin` has ready fixtures;
`graftzoo.testing.hub_server` is a loopback Hugging Face Hub for push/pull tests.
"""

from graftzoo.testing.manifest_check import manifest_problems
from graftzoo.testing.plugins import FakePluginSite, arch_manifest

__all__ = ["FakePluginSite", "arch_manifest", "manifest_problems"]
