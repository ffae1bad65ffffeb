"""Without the optional `peft`, asking for adapters is a clear error with the pip line; nothing else needs it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def test_missing_peft_gives_the_pip_line_and_plain_models_still_work() -> None:
    script = textwrap.dedent("""
        import json, sys
        sys.modules["peft"] = None  # what an environment without peft looks like to `import peft`
        import graftzoo
        from graftzoo.adapters import LoRA
        out = {}
        plain = graftzoo.graft("timm/test_efficientnet", "classify", n_out=2)
        out["plain"] = plain.adapters is None
        for name, call in [("graft", lambda: graftzoo.graft("timm/test_efficientnet", "classify", n_out=2, adapters=LoRA())),
                           ("add", lambda: plain.add_adapters(LoRA(r=2)))]:
            try:
                call()
            except graftzoo.GraftzooError as exc:
                out[name] = [type(exc).__name__, str(exc)]
        out["untouched"] = not any(".lora_" in n for n, _ in plain.named_parameters())
        print(json.dumps(out))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["plain"] and out["untouched"]
    for name in ("graft", "add"):
        kind, message = out[name]
        assert kind == "MissingPeftError"
        assert 'pip install "graftzoo[peft]"' in message and "peft==0.21.2" in message
