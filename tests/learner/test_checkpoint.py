"""Checkpoints: safetensors with model + flattened optimizer state, exact round trips."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors import safe_open

from graftzoo.errors import GraftzooError
from graftzoo.learner import Callback, CancelFitException


class StopAfter(Callback):
    def __init__(self, n):
        self.n = n

    def after_batch(self):
        if self.learn.training and self.learn.train_iter >= self.n:
            raise CancelFitException()


def _all_state(learn):
    out = {f"model.{k}": v.clone() for k, v in learn.model.state_dict().items()}
    sd = learn.opt.state_dict()
    for i, st in sd["state"].items():
        for k, v in st.items():
            out[f"opt.{i}.{k}"] = v.clone() if torch.is_tensor(v) else v
    return out, sd["param_groups"]


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        if torch.is_tensor(a[k]):
            assert torch.equal(a[k], b[k]), k
        else:
            assert a[k] == b[k], k


def test_round_trip_and_resume(make_learner, tmp_path):
    learn = make_learner(lr=1e-2)
    learn.fit(1, cbs=[StopAfter(2)])
    path = learn.save("ckpt")
    assert path == tmp_path / "models" / "ckpt.safetensors" and path.is_file()
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    saved, saved_groups = _all_state(learn)

    learn.fit(1, cbs=[StopAfter(3)])  # train more: everything moves
    moved, _ = _all_state(learn)
    assert not torch.equal(moved["model.head.weight"], saved["model.head.weight"])
    after_original = {k: v.clone() for k, v in learn.model.state_dict().items()}

    learn.load("ckpt")
    loaded, loaded_groups = _all_state(learn)
    _assert_same(saved, loaded)
    assert loaded_groups == saved_groups

    learn.fit(1, cbs=[StopAfter(3)])  # the same continuation from the loaded state
    resumed = learn.model.state_dict()
    assert all(torch.equal(after_original[k], resumed[k]) for k in resumed)


def test_load_into_a_fresh_learner(make_learner):
    learn = make_learner(lr=1e-2)
    learn.fit(1)
    learn.save("a")
    other = make_learner()
    assert other.opt is None
    other.load("a")
    _assert_same(_all_state(learn)[0], _all_state(other)[0])


def test_file_layout(make_learner):
    learn = make_learner()
    learn.fit(1)
    path = learn.save("layout")
    with safe_open(str(path), framework="pt") as f:
        keys = set(f.keys())
        meta = json.loads(f.metadata()["graftzoo.learner"])
    assert "model.body.1.running_mean" in keys
    assert any(k.startswith("opt.state.0.exp_avg") for k in keys)
    assert meta["format"] == "graftzoo.learner/1"
    assert meta["opt"]["param_groups"][0]["betas"] == {"__tuple__": [0.9, 0.999]}


def test_without_optimizer(make_learner):
    learn = make_learner()
    learn.fit(1)
    learn.save("weights", with_opt=False)
    other = make_learner()
    with pytest.warns(UserWarning, match="no optimizer state"):
        other.load("weights")
    assert torch.equal(other.model.head.weight, learn.model.head.weight)
    other.load("weights", with_opt=False)


def test_sgd_state_with_none_buffers(make_learner):
    learn = make_learner(opt_func=lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9, nesterov=True))
    learn.fit(1)
    learn.save("sgd")
    before, groups = _all_state(learn)
    learn.fit(1)
    learn.load("sgd")
    _assert_same(before, _all_state(learn)[0])


def test_missing_checkpoint_says_what_to_do(make_learner):
    with pytest.raises(GraftzooError, match="no checkpoint"):
        make_learner().load("nope")


def test_tied_weights_are_saved(make_learner, fake_grafted):
    model = fake_grafted(n_in=4, hidden=4, n_out=4)
    model.extra = torch.nn.Linear(4, 4)
    model.extra.weight = model.head.weight  # shared storage
    learn = make_learner(model=model, splitter=lambda m: [list(m.body.parameters()), list(m.head.parameters()) + [m.extra.bias]])
    learn.fit(1)
    learn.save("tied")
    learn.load("tied")


def test_optimizer_mismatch_says_load_weights_only(make_learner, fake_grafted):
    learn = make_learner()
    learn.fit(1)
    learn.save("two_groups")

    class ThreeGroups(fake_grafted):
        def param_groups(self):
            return [list(self.body[0].parameters()), list(self.body[1].parameters()), list(self.head.parameters())]

    other = make_learner(model=ThreeGroups())
    with pytest.raises(GraftzooError, match="with_opt=False"):
        other.load("two_groups")
    other.load("two_groups", with_opt=False)
