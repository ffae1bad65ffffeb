"""save_head and load_head read the body's source weights once (fingerprint and body share one read)."""

from __future__ import annotations

import importlib
from pathlib import Path

import timm
import torch
from safetensors.torch import save_file

import graftzoo
from graftzoo.artifacts import load_head
from graftzoo.artifacts.fingerprint import forget_fingerprints
from graftzoo.testing import FakePluginSite

MANIFEST = """
[plugin]
name = "counting"
namespace = "counting"
api_version = 1

[[weights]]
name = "counting"
scheme = "counting"
factory = "graftzoo_counting.source:CountingWeights"
"""

SOURCE = '''
from pathlib import Path
from graftzoo.weights import FileWeights

READS = []

class CountingWeights(FileWeights):
    """file weights under another scheme, counting every read of the tensors."""
    scheme = "counting"
    def resolve(self, ref, arch=None):
        return Path(ref.removeprefix("counting://"))
    def load_state_dict(self, ref, arch=None):
        READS.append(ref)
        return super().load_state_dict(ref, arch)
'''


def test_source_weights_are_read_once_per_save_and_per_load(fake_plugin_site: FakePluginSite, tmp_path: Path) -> None:
    fake_plugin_site.add("graftzoo-counting", plugin="counting", manifest=MANIFEST, modules={"source.py": SOURCE})
    fake_plugin_site.registry(include_installed=True)
    reads = importlib.import_module("graftzoo_counting.source").READS
    torch.manual_seed(0)
    path = tmp_path / "w.safetensors"
    save_file({k: v.contiguous() for k, v in timm.create_model("test_convnext").state_dict().items()}, str(path))
    model = graftzoo.graft("timm/test_convnext", "classify", n_out=2, weights=f"counting://{path}")
    reads.clear()
    forget_fingerprints()
    folder = model.save_head(tmp_path / "head", vocab=["a", "b"])
    assert len(reads) == 1, reads
    reads.clear()
    forget_fingerprints()
    load_head(folder)
    assert len(reads) == 1, reads
