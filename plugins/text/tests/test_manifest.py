"""The text plugin's manifest: every entry's factory imports and fits its kind (the demo command and the
`fastai:` weight source included)."""

from graftzoo.registry import current
from graftzoo.testing import manifest_problems


def test_manifest_entries_resolve() -> None:
    assert manifest_problems("text", import_factories=True) == []
    registry = current()
    assert registry.command("text/demo").factory == "graftzoo_text.demo:run_demo"
    assert registry.weight_source_for("fastai").factory == "graftzoo_text.fastai_zoo:FastaiModelZoo"
