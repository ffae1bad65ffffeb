"""Whether `torchvision:` weights are in the torch hub cache, looked up without importing torch or torchvision.

`checkpoint_files.json` (written by tools/make_manifest.py with the manifest) maps each weights enum
member to the file torchvision saves it as; the cache folder follows torch.hub's rule
(`$TORCH_HOME/hub/checkpoints`, TORCH_HOME defaulting to `$XDG_CACHE_HOME/torch`, i.e. `~/.cache/torch`).
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

from graftzoo.spec import ArchSpec

CHECKPOINTS = Path(__file__).with_name("checkpoint_files.json")


def is_available(ref: str, arch: ArchSpec | None = None) -> bool | None:
    """True when the checkpoint `ref` names is in the torch hub cache; None for a member the table lacks."""
    name = ref.partition(":")[2]
    filename = name if name.endswith((".pth", ".pt", ".safetensors")) else checkpoint_files().get(name)
    if filename is None:
        return None
    return (checkpoints_dir() / filename).is_file()


def checkpoints_dir() -> Path:
    """torch.hub's checkpoint folder, from the same environment variables torch.hub reads."""
    torch_home = os.environ.get("TORCH_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME", "~/.cache"), "torch")
    return Path(torch_home).expanduser() / "hub" / "checkpoints"


@cache
def checkpoint_files() -> dict[str, str]:
    files: dict[str, str] = json.loads(CHECKPOINTS.read_text(encoding="utf-8"))
    return files
