"""save_head -> load_head gives the same model: same logits, and only the tensors training changed."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch
from safetensors import safe_open

from graftzoo.artifacts import load_head, save_head
from graftzoo_vision.image_preprocessor import ImagePreprocessor


def _stored(folder: Path) -> list[str]:
    with safe_open(str(folder / "head.safetensors"), "pt") as handle:
        return sorted(handle.keys())


def _full_bytes(model: Any) -> int:
    return sum(t.numel() * t.element_size() for t in model.state_dict().values())


def test_frozen_with_train_bn_stores_head_and_changed_norms(kit: ModuleType, frozen: Any, saved: Path) -> None:
    config = json.loads((saved / "graftzoo.json").read_text())
    assert config["body_tensors"] == frozen.changed_body_keys
    head_keys = sorted(k for k in frozen.state_dict() if k.startswith("head."))
    assert _stored(saved) == sorted(head_keys + frozen.changed_body_keys)
    loaded = load_head(saved)
    assert not loaded.training
    assert torch.equal(kit.logits(loaded), kit.logits(frozen))
    assert loaded.vocab == kit.CLASSES and loaded.config == frozen.config
    size, full = (saved / "head.safetensors").stat().st_size, _full_bytes(frozen)
    print(f"\nfrozen + train_bn: artifact {size} bytes, full state dict {full} bytes ({size / full:.1%})")
    assert size < 0.06 * full
    assert "frozen except its normalization layers" in config["training"]["body"]


def test_unfrozen_body_travels_changed(kit: ModuleType, weights_ref: str, tmp_path: Path) -> None:
    model = kit.make_model(weights_ref)
    kit.train_unfrozen(model)
    folder = save_head(model, tmp_path / "unfrozen")
    body_float = sorted(k for k, v in model.state_dict().items() if k.startswith("body.") and v.is_floating_point())
    assert json.loads((folder / "graftzoo.json").read_text())["body_tensors"] == body_float
    assert torch.equal(kit.logits(load_head(folder)), kit.logits(model))
    size, full = (folder / "head.safetensors").stat().st_size, _full_bytes(model)
    print(f"\nunfrozen: artifact {size} bytes, full state dict {full} bytes ({size / full:.1%})")


def test_body_without_weights_is_saved_whole(kit: ModuleType, tmp_path: Path) -> None:
    model = kit.make_model(None)
    kit.train_frozen(model)
    folder = save_head(model, tmp_path / "scratch")
    config = json.loads((folder / "graftzoo.json").read_text())
    assert config["body_weights"] is None and config["body_fingerprint"] is None
    assert config["body_tensors"] == sorted(k for k in model.state_dict() if k.startswith("body."))
    torch.manual_seed(12345)  # a different random init must not matter: every body tensor is stored
    assert torch.equal(kit.logits(load_head(folder)), kit.logits(model))


def test_unchanged_body_stores_the_head_only(kit: ModuleType, weights_ref: str, tmp_path: Path) -> None:
    model = kit.make_model(weights_ref)
    folder = save_head(model, tmp_path / "head-only")
    assert all(k.startswith("head.") for k in _stored(folder))
    assert torch.equal(kit.logits(load_head(folder)), kit.logits(model))


@pytest.mark.parametrize(
    ("options", "n_in"),
    [
        ({"lin_ftrs": [64], "ps": 0.25, "concat_pool": False, "bn_final": True}, 3),
        ({"task": "core/multilabel", "lin_ftrs": [32, 16], "first_bn": False}, 1),
        ({"task": "core/regression", "y_range": [0.0, 5.0], "lin_first": True}, 3),
    ],
)
def test_head_kwargs_tasks_and_channels_round_trip(
    kit: ModuleType, weights_ref: str, tmp_path: Path, options: dict[str, Any], n_in: int
) -> None:
    model = kit.make_model(weights_ref, n_out=4, n_in=n_in, **options)
    kit.train_frozen(model)
    folder = save_head(model, tmp_path / "kw")
    loaded = load_head(folder)
    assert loaded.config == model.config and loaded.task.name == model.task.name
    x = torch.rand(2, n_in, 64, 64)
    assert torch.equal(kit.logits(loaded, x), kit.logits(model, x))


def test_every_image_head_kind_round_trips(kit: ModuleType, weights_ref: str, tmp_path: Path) -> None:
    import graftzoo

    pair = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(3))
    for head in graftzoo.heads("vision/*"):  # heads of other input kinds round-trip in their plugins' tests
        model = graftzoo.graft(kit.ARCH, head, n_out=3, weights=weights_ref)
        kit.train_frozen(model)
        loaded = load_head(save_head(model, tmp_path / head.replace("/", "-")))
        assert loaded.config == model.config
        x = (kit.inputs(), pair) if head == "vision/siamese" else (kit.inputs(),)  # pair heads take two images
        with torch.no_grad():
            assert torch.equal(loaded.eval()(*x), model.eval()(*x)), head


def test_body_weights_override(kit: ModuleType, saved: Path, frozen: Any, weights_ref: str, tmp_path: Path) -> None:
    moved = tmp_path / "moved" / "w.safetensors"
    moved.parent.mkdir()
    moved.write_bytes(Path(weights_ref.removeprefix("file://")).read_bytes())
    loaded = load_head(saved, body_weights=moved.as_uri())
    assert loaded.config["weights"] == moved.as_uri()
    assert torch.equal(kit.logits(loaded), kit.logits(frozen))


def test_learner_like_objects_give_vocab_stats_size_and_metrics(kit: ModuleType, frozen: Any, tmp_path: Path) -> None:
    class Recorder:
        metric_names = ["epoch", "train_loss", "valid_loss", "accuracy", "time"]
        values = [[0.9, 0.8, 0.5], [0.5, 0.4, 0.875]]

    class Dls:
        vocab = kit.CLASSES
        preprocessor = ImagePreprocessor(3, {"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}, [3, 128, 128])

    class Learn:
        model, dls, recorder, train_bn = frozen, Dls(), Recorder(), True

    folder = save_head(Learn(), tmp_path / "from-learner")
    config = json.loads((folder / "graftzoo.json").read_text())
    state = config["preprocessor"]["state"]
    assert config["classes"] == kit.CLASSES and state["input_size"] == [3, 128, 128]
    assert state["stats"] == {"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}
    assert config["metrics"] == {"train_loss": 0.5, "valid_loss": 0.4, "accuracy": 0.875}
    assert config["training"]["epochs"] == 2 and config["training"]["train_bn"] is True
    loaded = load_head(folder)
    assert loaded.preprocessor.state() == state


def test_data_without_a_preprocessor_warns_that_the_head_assumes_defaults(kit: ModuleType, frozen: Any, tmp_path: Path) -> None:
    class PlainLoaders:  # plain torch DataLoaders: nothing says how raw items were prepared
        vocab = kit.CLASSES

    class Learn:
        model, dls = frozen, PlainLoaders()

    with pytest.warns(UserWarning, match=r"PlainLoaders\) carries no preprocessor.*vision/image's defaults"):
        folder = save_head(Learn(), tmp_path / "plain")
    assert (folder / "graftzoo.json").is_file()  # still saved
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # data that carries its preprocessor: no warning
        test_learner_like_objects_give_vocab_stats_size_and_metrics(kit, frozen, tmp_path)
