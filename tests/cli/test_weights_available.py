"""`graftzoo list` / `info` tell weights on this machine now (packaged or cached) from weights to download,
by looking for files only, and show each arch's input kind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from graftzoo.registry.cli import main
from graftzoo.testing.plugins import FakePluginSite


@pytest.fixture
def caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Empty torch hub and Hugging Face caches: (torch checkpoints folder, HF cache folder)."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("GRAFTZOO_HF_CACHE", str(tmp_path / "hf"))
    return tmp_path / "torch" / "hub" / "checkpoints", tmp_path / "hf"


def _statuses(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, str]:
    assert main(["list", *argv, "--json"]) == 0
    return {d["name"]: d["weights_status"] for d in json.loads(capsys.readouterr().out)}


def test_cached_and_packaged_weights_are_available_now(caches: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    checkpoints, hf = caches
    before = _statuses(capsys, "resnet*")
    assert before["torchvision/resnet34"] == before["torchvision/resnet18"] == before["timm/resnet18"] == "download"
    checkpoints.mkdir(parents=True)
    (checkpoints / "resnet34-b627a593.pth").write_bytes(b"")  # torchvision's file name for IMAGENET1K_V1
    assert main(["info", "timm/resnet18", "--json"]) == 0
    tag = json.loads(capsys.readouterr().out)["default_weights"].removeprefix("timm:")
    snapshot = hf / f"models--timm--{tag}" / "snapshots" / "0123abc"
    snapshot.mkdir(parents=True)
    (snapshot / "model.safetensors").write_bytes(b"")
    after = _statuses(capsys, "resnet*")
    assert after["torchvision/resnet34"] == after["timm/resnet18"] == "now"
    assert after["torchvision/resnet18"] == after["timm/resnet34"] == "download"
    assert _statuses(capsys, "*efficientnet_lite0")["packaged/efficientnet_lite0"] == "now"  # ships in a pip package

    available = _statuses(capsys, "--available")
    assert set(available) == {"torchvision/resnet34", "timm/resnet18", "packaged/efficientnet_lite0", "timm/tf_efficientnet_lite0"}
    assert main(["list", "resnet3*", "--available"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert rows == [["name", "input", "weights", "plugin"], ["torchvision/resnet34", "image", "224x224", "now", "torchvision"]]
    assert main(["info", "torchvision/resnet34"]) == 0
    assert "on this machine now" in capsys.readouterr().out
    assert main(["info", "torchvision/resnet18"]) == 0
    assert "downloaded on first use" in capsys.readouterr().out


def test_non_image_archs_show_their_input_kind_not_an_image_size(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "text/awd_lstm"]) == 0
    row = capsys.readouterr().out.splitlines()[1].split()
    assert row[:3] == ["text/awd_lstm", "text/tokens", "-"]  # no default weights
    assert main(["info", "text/awd_lstm", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["inputs"] == "text/tokens" and info["input_size"] is None and info["stats"] is None


def test_available_is_for_archs_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--kind", "heads", "--available"]) == 2
    assert "--available filters archs" in capsys.readouterr().err


def test_list_available_imports_no_torch(caches: tuple[Path, Path]) -> None:
    code = "import sys; from graftzoo.registry.cli import main; main(['list', '--available']); print(sorted(m for m in ('torch', 'timm', 'torchvision') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy(), check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]" and "efficientnet_lite0" in done.stdout


MANIFEST = """
[plugin]
name = "vault"
namespace = "vault"
api_version = 1

[[weights]]
name = "vault"
scheme = "vault"
factory = "graftzoo_vault_dist.source:Vault"
available = "graftzoo_vault_dist.check:{check}"

[[archs]]
name = "here"
factory = "torch.nn:Identity"
default_weights = "vault:here"

[[archs]]
name = "away"
factory = "torch.nn:Identity"
default_weights = "vault:away"
"""


def test_a_plugins_check_decides_and_a_broken_one_shows_unknown(fake_plugin_site: FakePluginSite, capsys: pytest.CaptureFixture[str]) -> None:
    check = "def is_available(ref, arch):\n    return ref == 'vault:here'\n\ndef broken(ref, arch):\n    raise RuntimeError('bug')\n"
    fake_plugin_site.add("graftzoo-vault-dist", plugin="vault", manifest=MANIFEST.format(check="is_available"), modules={"check.py": check})
    fake_plugin_site.registry()
    assert _statuses(capsys, "vault/*") == {"vault/here": "now", "vault/away": "download"}
    fake_plugin_site.add("graftzoo-vault-dist", plugin="vault", manifest=MANIFEST.format(check="broken"), modules={"check.py": check},
                         version="1.1")
    fake_plugin_site.registry()
    assert _statuses(capsys, "vault/*") == {"vault/here": "?", "vault/away": "?"}  # listed all the same
