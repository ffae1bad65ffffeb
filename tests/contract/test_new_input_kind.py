"""A plugin written here adds a new input kind ("sequence of floats"): preprocessor, body and head.

It trains, saves, pushes, pulls and predicts through the same core code (graft, Learner, save_head,
the local hub, load_head, predict) with no change to core: the input contract of docs/plugins.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import graftzoo
from graftzoo.artifacts import load_head
from graftzoo.errors import ConfigError
from graftzoo.artifacts import pull_head, push_head
from graftzoo.learner import Learner
from graftzoo.testing import FakePluginSite

MANIFEST = """
[plugin]
name = "toy"
namespace = "toy"
api_version = 1

[[preprocessors]]
name = "floats"
factory = "graftzoo_toy.floats:FloatsPreprocessor"

[[archs]]
name = "mlp"
factory = "graftzoo_toy.floats:mlp"
inputs = "toy/floats"
probe_size = 0
steps = { factory = "graftzoo_toy.floats:build", body = "graftzoo_toy.floats:wrap" }

[[heads]]
name = "linear"
factory = "graftzoo_toy.floats:linear_head"
task = "core/classification"
kwargs_schema = { type = "object", additionalProperties = false, properties = { bias = { type = "boolean" }, weights = { enum = ["xavier", "zeros"] } } }
"""

FLOATS = '''
"""A toy input kind: fixed-length sequences of floats, scaled by a factor learnt from the data."""
from typing import Any, Sequence
import torch
from torch import nn
from graftzoo import Body, Head, InputSpec, Preprocessor
from graftzoo.errors import ConfigError

class FloatsPreprocessor(Preprocessor):
    kind = "toy/floats"
    def __init__(self, length: int, scale: float = 1.0) -> None:
        self.length, self.scale = int(length), float(scale)
    @classmethod
    def from_state(cls, state: dict) -> "FloatsPreprocessor":
        return cls(state["length"], state["scale"])
    @classmethod
    def for_model(cls, model: Any) -> "FloatsPreprocessor":
        return cls(model.inputs.params["length"])
    def state(self) -> dict:
        return {"length": self.length, "scale": self.scale}
    def input_spec(self) -> InputSpec:
        return InputSpec(self.kind, {"length": self.length})
    def is_single(self, item: Any) -> bool:
        return isinstance(item, (list, tuple)) and all(isinstance(v, (int, float)) for v in item)
    def encode(self, items: Sequence[Any]) -> tuple[torch.Tensor, ...]:
        if any(len(i) != self.length for i in items):
            raise ConfigError(f"each item must hold {self.length} floats")
        return (torch.tensor([list(i) for i in items], dtype=torch.float32) * self.scale,)

def mlp(length: int) -> nn.Module:
    return nn.Sequential(nn.Linear(length, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU())

def build(spec: Any, inputs: InputSpec, weights: Any = None) -> nn.Module:
    return mlp(inputs.params["length"])

def wrap(model: nn.Module, spec: Any, inputs: InputSpec, weights: Any, cut: Any) -> Body:
    split = lambda net: [[net[0]], [net[2]]]
    return Body(model, spec=spec, weights=weights, inputs=inputs, cut=cut, split=split, num_features=16)

class LinearHead(Head):
    def __init__(self, nf: int, n_out: int, bias: bool = True, weights: str = "xavier") -> None:
        super().__init__()
        self.lin = nn.Linear(nf, n_out, bias=bias)
        self.init = weights
        if weights == "zeros":
            nn.init.zeros_(self.lin.weight)
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x)

def linear_head(body: Body, n_out: int, bias: bool = True, weights: str = "xavier") -> LinearHead:
    return LinearHead(body.num_features, n_out, bias, weights)
'''


@pytest.fixture
def toy_site(fake_plugin_site: FakePluginSite) -> FakePluginSite:
    fake_plugin_site.add("graftzoo-toy", plugin="toy", manifest=MANIFEST, modules={"floats.py": FLOATS})
    fake_plugin_site.registry(include_installed=True)
    return fake_plugin_site


class Dls:
    """The least a Learner's data must offer (graftzoo.DataLoaders): train, valid, vocab, preprocessor."""

    def __init__(self, preprocessor: object) -> None:
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(256, 8, generator=gen)
        y = (x[:, :4].sum(1) > x[:, 4:].sum(1)).long()
        self.train = DataLoader(TensorDataset(x[:192] * 0.5, y[:192]), batch_size=32, shuffle=True, generator=gen)
        self.valid = DataLoader(TensorDataset(x[192:] * 0.5, y[192:]), batch_size=64)
        self.vocab = ["left", "right"]
        self.preprocessor = preprocessor


def test_a_new_input_kind_trains_saves_pushes_pulls_and_predicts(toy_site: FakePluginSite, tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = graftzoo.graft("toy/mlp", "toy/linear", n_out=2, inputs={"kind": "toy/floats", "length": 8}, head_kwargs={"bias": True})
    assert model.inputs.to_json() == {"kind": "toy/floats", "length": 8}
    dls = Dls(graftzoo.preprocessor_class("toy/floats")(8, scale=0.5))
    learn = Learner(dls, model, lr=3e-2, quiet=True)
    assert len(learn.param_lists) == 3  # the body's two groups, then the head
    learn.fit_one_cycle(4)
    accuracy = learn.recorder.values[-1][-1]
    assert accuracy > 0.85, accuracy
    item = [1.0, 1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0]
    label, _, probs = learn.predict(item)
    assert label == "right"
    folder = graftzoo.save_head(learn, tmp_path / "toy-head")
    saved = json.loads((folder / "graftzoo.json").read_text())
    assert saved["inputs"] == {"kind": "toy/floats", "length": 8}
    assert saved["preprocessor"] == {"kind": "toy/floats", "state": {"length": 8, "scale": 0.5}}
    revision = push_head(folder, "alice/toy")
    pulled = pull_head(revision.ref)
    loaded = load_head(pulled)
    loaded_label, loaded_probs = loaded.predict(item)
    assert loaded_label == label
    torch.testing.assert_close(loaded_probs, probs)
    labels, batch_probs = loaded.predict([item, [-v for v in item]])
    assert labels == ["right", "left"] and batch_probs.shape == (2, 2)
    with pytest.raises(ConfigError, match="8 floats"):
        loaded.predict([1.0, 2.0])


def test_a_body_from_a_saved_head_serves_a_new_head(toy_site: FakePluginSite, tmp_path: Path) -> None:
    """head:// weights: the trained body of one head is the starting point of another."""
    torch.manual_seed(0)
    first = graftzoo.graft("toy/mlp", "toy/linear", n_out=2, inputs={"kind": "toy/floats", "length": 8})
    with torch.no_grad():
        for param in first.body.parameters():
            param.add_(0.5)
    folder = first.save_head(tmp_path / "first", vocab=["a", "b"])
    second = graftzoo.graft("toy/mlp", "toy/linear", n_out=3, inputs={"kind": "toy/floats", "length": 8},
                            weights=f"head://{folder}")
    for a, b in zip(first.body.state_dict().values(), second.body.state_dict().values()):
        assert torch.equal(a, b)
    saved = second.save_head(tmp_path / "second", vocab=["x", "y", "z"])
    config = json.loads((saved / "graftzoo.json").read_text())
    assert config["body_weights"] == f"head://{folder}" and config["body_fingerprint"].startswith("sha256:")
    assert config["body_tensors"] == []  # the body is exactly the first head's: nothing of it is stored again
    reloaded = load_head(saved)
    x = torch.randn(4, 8)
    second.eval()
    torch.testing.assert_close(reloaded(x), second(x))
    with torch.no_grad():  # the first head's body changes on disk: the second head refuses to load onto it
        for param in first.body.parameters():
            param.add_(1.0)
    first.save_head(folder, vocab=["a", "b"])
    with pytest.raises(graftzoo.GraftzooError, match="not the ones the head"):
        load_head(saved)


def test_head_kwargs_have_their_own_namespace(toy_site: FakePluginSite, tmp_path: Path) -> None:
    """A head may take a kwarg named `weights`: it never reaches the body, and survives a save and load."""
    model = graftzoo.graft("toy/mlp", "toy/linear", n_out=2, inputs={"kind": "toy/floats", "length": 8},
                           weights=None, head_kwargs={"weights": "zeros"})
    assert model.head.init == "zeros" and model.body.weights is None
    assert not model.head.lin.weight.any()
    loaded = load_head(model.save_head(tmp_path / "zeros", vocab=["a", "b"]))
    assert loaded.head.init == "zeros" and loaded.config["head_kwargs"] == {"weights": "zeros"}


def test_an_arch_of_another_input_kind_needs_its_inputs(toy_site: FakePluginSite) -> None:
    with pytest.raises(ConfigError, match="consumes 'toy/floats' inputs"):
        graftzoo.graft("toy/mlp", "toy/linear", n_out=2)
    with pytest.raises(ConfigError, match="consumes 'toy/floats' inputs, not 'vision/image'"):
        graftzoo.graft("toy/mlp", "toy/linear", n_out=2, n_in=3, inputs={"kind": "vision/image", "n_in": 3})


def test_learner_push_head_defaults_to_the_local_hub_like_push_head(toy_site: FakePluginSite) -> None:
    """One default hub everywhere: `learn.push_head` used to default to the Hugging Face Hub."""
    model = graftzoo.graft("toy/mlp", "toy/linear", n_out=2, inputs={"kind": "toy/floats", "length": 8})
    learn = Learner(Dls(graftzoo.preprocessor_class("toy/floats")(8)), model, quiet=True)
    revision = learn.push_head("alice/default-hub")
    assert revision.ref.startswith("local://") or "hf://" not in revision.ref
    assert load_head(pull_head(revision.ref)).config == model.config
