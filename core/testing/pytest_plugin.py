"""pytest fixtures for plugin authors; enabled by installing graftzoo (entry point `pytest11`).

- `graftzoo_home`: a temporary GRAFTZOO_HOME, so caches and the local hub start empty.
- `fake_plugin_site`: a `FakePluginSite` on sys.path; the active registry is restored afterwards.
- `isolated_registry`: an empty active registry with only the core plugin.
- `one_torch_thread`: the test runs on one torch thread with seed 0 (small models run fastest so on 2 cores;
  LSTMs on any number), and the thread count is restored afterwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from graftzoo import registry
from graftzoo.testing.plugins import FakePluginSite


@pytest.fixture
def graftzoo_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "graftzoo-home"
    monkeypatch.setenv("GRAFTZOO_HOME", str(home))
    return home


@pytest.fixture
def fake_plugin_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, graftzoo_home: Path) -> Iterator[FakePluginSite]:
    site = FakePluginSite(tmp_path / "site-packages")
    site.root.mkdir()
    monkeypatch.syspath_prepend(str(site.root))
    previous = registry.use(None)
    try:
        yield site
    finally:
        site.forget_modules()
        registry.use(previous)


@pytest.fixture
def isolated_registry(fake_plugin_site: FakePluginSite) -> registry.Registry:
    return fake_plugin_site.registry()


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    import torch  # here, not at the top: pytest loads this plugin in every project that installs graftzoo

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
