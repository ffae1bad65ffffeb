"""A pulled head never runs code: no field of graftzoo.json or of a model config may name code to import.

Every attack writes a real saved head, forges one field, and loads it the way a victim would
(`load_head`, `from_config`, `graftzoo predict`, a pull from the loopback Hub). A probe module on
`sys.path` writes a marker file when it is imported and another when it is called: the marker must
never appear, and the load must end in a GraftzooError that names the field.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

import graftzoo
from graftzoo.artifacts import load_head
from graftzoo.errors import ArtifactError, ConfigError, GraftzooError
from graftzoo.registry.cli import main as cli_main
from graftzoo.testing.hub_server import LoopbackHub

ARCH = "timm/test_efficientnet"  # 0.36 M parameters: a whole body saves in 1.5 MB
PROBE = "graftzoo_security_probe"
ATTACK = f"{PROBE}:boom"
LORA = {"kind": "lora", "r": 2, "alpha": 4.0, "dropout": 0.0, "target_modules": ["model.conv_head"]}


@pytest.fixture
def probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A module that writes `marker` when imported or called; yields the marker path (must stay absent)."""
    folder = tmp_path / "probe"
    folder.mkdir()
    marker = tmp_path / "code-ran"
    (folder / f"{PROBE}.py").write_text(textwrap.dedent(f"""
        import pathlib
        pathlib.Path({str(marker)!r}).write_text("imported")
        def boom(*args, **kwargs):
            pathlib.Path({str(marker)!r}).write_text("called")
            return args[0] if args else None
    """))
    monkeypatch.syspath_prepend(str(folder))
    yield marker
    sys.modules.pop(PROBE, None)


@pytest.fixture(scope="module")
def saved_head(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    model = graftzoo.graft(ARCH, "classify", n_out=3)
    return model.save_head(tmp_path_factory.mktemp("heads") / "pets", vocab=["cat", "dog", "fish"])


def forge(saved: Path, dest: Path, **fields: Any) -> Path:
    """A copy of the saved head at `dest` whose graftzoo.json has `fields` replaced."""
    dest.mkdir(parents=True)
    for item in saved.iterdir():
        (dest / item.name).write_bytes(item.read_bytes())
    config = json.loads((saved / "graftzoo.json").read_text())
    config.update(fields)
    (dest / "graftzoo.json").write_text(json.dumps(config))
    return dest


FORGED_FIELDS = [
    pytest.param({"cut": ATTACK}, "cut", id="cut-probe"),
    pytest.param({"cut": "builtins:input"}, "cut", id="cut-input"),
    pytest.param({"cut": "os:system"}, "cut", id="cut-system"),
    pytest.param({"cut": f"{PROBE}/boom"}, "cut", id="cut-unregistered-name"),
    pytest.param({"arch": ATTACK}, "arch", id="arch-path"),
    pytest.param({"arch": f"{PROBE}/boom"}, "arch", id="arch-unregistered"),
    pytest.param({"head": ATTACK}, "head", id="head-path"),
    pytest.param({"head": f"{PROBE}/boom"}, "head", id="head-unregistered"),
    pytest.param({"task": ATTACK}, "task", id="task-path"),
    pytest.param({"task": f"{PROBE}/boom"}, "task", id="task-unregistered"),
    pytest.param({"body_weights": ATTACK, "body_fingerprint": "sha256:" + "0" * 64}, PROBE, id="weights-scheme"),
    pytest.param({"head_kwargs": {"lin_ftrs": ATTACK}}, "lin_ftrs", id="kwarg-string"),
    pytest.param({"head_kwargs": {"act_cls": ATTACK}}, "act_cls", id="kwarg-unknown"),
    pytest.param({"head_kwargs": {"pool": ATTACK}}, "pool", id="kwarg-reserved"),
    pytest.param({"body_kwargs": {"factory": ATTACK}}, "factory", id="body-kwarg"),
    pytest.param({"inputs": {"kind": ATTACK}}, "inputs", id="inputs-path"),
    pytest.param({"inputs": {"kind": f"{PROBE}/boom"}}, PROBE, id="inputs-unregistered"),
    pytest.param({"preprocessor": {"kind": ATTACK, "state": {}}}, "preprocessor", id="preprocessor-path"),
    pytest.param({"preprocessor": {"kind": f"{PROBE}/boom", "state": {}}}, PROBE, id="preprocessor-unregistered"),
    pytest.param({"preprocessor": {"kind": "vision/image", "state": {"factory": ATTACK}}}, "factory", id="preprocessor-state"),
    pytest.param({"preprocessor": {"kind": "vision/image", "state": {"stats": ATTACK}}}, "stats", id="preprocessor-stats"),
    pytest.param({"adapters": {**LORA, "target_modules": [ATTACK]}}, "target_modules", id="adapters-target-path"),
    pytest.param({"adapters": {**LORA, "target_modules": [f"{PROBE}/boom"]}}, "target_modules", id="adapters-target-unknown"),
    pytest.param({"adapters": {**LORA, "kind": ATTACK}}, "kind", id="adapters-kind-path"),
    pytest.param({"adapters": {**LORA, "factory": ATTACK}}, "adapters", id="adapters-extra-key"),
]


@pytest.mark.parametrize(("fields", "named"), FORGED_FIELDS)
def test_forged_field_is_refused_without_running_code(saved_head: Path, tmp_path: Path, probe: Path, fields: dict[str, Any], named: str) -> None:
    forged = forge(saved_head, tmp_path / "forged", **fields)
    with pytest.raises(ArtifactError) as info:
        load_head(forged)
    assert named in str(info.value)
    assert not probe.exists(), f"code ran: {probe.read_text()}"
    assert PROBE not in sys.modules


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [({"y_range": "ab"}, "y_range"), ({"lin_ftrs": [10**9]}, "lin_ftrs"), ({"ps": 7}, "ps"), ({"concat_pool": "yes"}, "concat_pool")],
)
def test_head_kwargs_are_checked_against_the_heads_schema_before_building(saved_head: Path, tmp_path: Path, kwargs: dict[str, Any], named: str) -> None:
    """`{"y_range": "ab"}` used to load and fail only at predict with a raw TypeError."""
    forged = forge(saved_head, tmp_path / "forged", head_kwargs=kwargs)
    with pytest.raises(ArtifactError, match="does not take these kwargs") as info:
        load_head(forged)
    assert named in str(info.value)


def test_the_genuine_head_still_loads(saved_head: Path) -> None:
    model = load_head(saved_head)
    assert model.predict(torch.rand(3, 160, 160))[0] in ("cat", "dog", "fish")


@pytest.mark.parametrize("cut", [ATTACK, "builtins:input", "os:system"])
def test_from_config_and_graft_refuse_a_cut_that_names_code(probe: Path, cut: str) -> None:
    config = {"arch": ARCH, "weights": None, "n_in": 3, "cut": cut, "head": "vision/classify", "n_out": 2,
              "head_kwargs": {}, "task": "core/classification"}
    with pytest.raises(ConfigError, match="never names code"):
        graftzoo.from_config(config)
    with pytest.raises(ConfigError, match="never names code"):
        graftzoo.graft(ARCH, "classify", n_out=2, cut=cut)
    assert not probe.exists()


def test_a_registered_cut_name_still_works() -> None:
    body = graftzoo.create_body("torchvision/swin_t", cut="torchvision/swin_body")
    assert type(body.net).__name__ == "SwinBody"
    with pytest.raises(ConfigError, match="unknown cut"):
        graftzoo.create_body("torchvision/swin_t", cut="torchvision/no_such_cut")


def test_manifest_cut_must_be_a_registered_name_too() -> None:
    from graftzoo.spec import spec_from_dict

    with pytest.raises(ValueError, match="registered cut"):
        spec_from_dict("archs", {"name": "x/y", "factory": "m:f", "cut": "os:system"})


def test_cli_predict_refuses_a_forged_head(saved_head: Path, tmp_path: Path, probe: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    image = tmp_path / "cat.png"
    Image.new("RGB", (32, 32), "red").save(image)
    forged = forge(saved_head, tmp_path / "forged", cut=ATTACK)
    assert cli_main(["predict", str(forged), str(image)]) != 0
    assert "cut" in capsys.readouterr().err
    assert not probe.exists()


@pytest.mark.slow
def test_a_head_pulled_from_the_hub_cannot_run_code(saved_head: Path, tmp_path: Path) -> None:
    """The reported attack, end to end: mallory uploads a forged head; the victim calls load_head('hf://...')."""
    forged = forge(saved_head, tmp_path / "forged", cut=ATTACK)
    probe_dir = tmp_path / "probe-pkg"
    probe_dir.mkdir()
    marker = tmp_path / "code-ran"
    (probe_dir / f"{PROBE}.py").write_text(f"import pathlib\npathlib.Path({str(marker)!r}).write_text('imported')\ndef boom(m): return m\n")
    script = textwrap.dedent(f"""
        import json, sys
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("mallory/pets-head", exist_ok=True)
        api.upload_folder(folder_path={str(forged)!r}, repo_id="mallory/pets-head")
        import graftzoo
        try:
            graftzoo.load_head("hf://mallory/pets-head")
        except graftzoo.GraftzooError as exc:
            print(json.dumps({{"error": type(exc).__name__, "message": str(exc)}}))
        else:
            print(json.dumps({{"error": None}}))
    """)
    with LoopbackHub() as hub:
        env = {**hub.subprocess_env(tmp_path / "hf"), "GRAFTZOO_HOME": str(tmp_path / "home"), "PYTHONPATH": str(probe_dir)}
        proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["error"] == "ArtifactError" and "cut" in result["message"]
    assert not marker.exists()


def test_every_graftzoo_json_field_is_covered() -> None:
    """Adding a field to the schema without deciding whether it can name code fails here."""
    from graftzoo.artifacts.schema import FIELDS

    data_only = {"format_version", "body_fingerprint", "n_out", "classes", "vocab", "metrics", "versions", "body_tensors",
                 "head_file", "created"}
    attacked = {"cut", "arch", "head", "task", "body_weights", "head_kwargs", "body_kwargs", "inputs", "preprocessor", "adapters"}
    assert set(FIELDS) == data_only | attacked
    assert issubclass(ArtifactError, GraftzooError)
