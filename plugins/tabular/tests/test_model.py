"""The embeddings_mlp body and linear head: shapes, fastai's embedding sizes, one-table embeddings, groups."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from torch import nn

import graftzoo
from graftzoo.errors import ConfigError, WeightsError
from graftzoo.inputs import InputSpec
from graftzoo.learner import Learner
from graftzoo.registry import current
from graftzoo_tabular import ColumnEmbeddings, emb_sz_rule, embedding_sizes, tabular_body, tabular_model

SPEC = {"kind": "tabular/columns", "cat_names": ["a", "b", "c"], "cardinalities": [3, 10, 100], "cont_names": ["x", "y"], "n_cont": 2,
        "fingerprint": "sha256:0"}


@pytest.mark.parametrize(("n", "width"), [(2, 2), (3, 3), (5, 4), (10, 6), (17, 8), (42, 13), (100, 21), (1000, 77), (10**6, 600)])
def test_emb_sz_rule_matches_fastai(n: int, width: int) -> None:
    assert emb_sz_rule(n) == width


def test_embedding_sizes_take_overrides_by_name() -> None:
    assert embedding_sizes(SPEC) == [(3, 3), (10, 6), (100, 21)]
    assert embedding_sizes(SPEC, {"b": 2}) == [(3, 3), (10, 2), (100, 21)]
    with pytest.raises(ConfigError, match="'zz'"):
        embedding_sizes(SPEC, {"zz": 4})


def test_one_table_equals_one_embedding_per_column() -> None:
    emb = ColumnEmbeddings([3, 10, 100], [3, 6, 21])
    assert emb.weight.numel() == 3 * 3 + 10 * 6 + 100 * 21  # fastai's parameter count
    x = torch.tensor([[0, 9, 99], [2, 0, 5], [1, 4, 0]])
    expected = torch.cat([nn.functional.embedding(x[:, i], emb.table(i)) for i in range(3)], dim=1)
    assert torch.equal(emb(x), expected)
    emb(x).sum().backward()  # gradients reach exactly the rows used
    grad = emb.weight.grad
    assert grad is not None
    used = torch.zeros_like(emb.weight, dtype=torch.bool)
    for i in range(3):
        view = used[emb.starts[i]:emb.starts[i] + emb.cardinalities[i] * emb.dims[i]].view(emb.cardinalities[i], emb.dims[i])
        view[x[:, i].unique()] = True
    assert bool((grad[used] != 0).all()) and bool((grad[~used] == 0).all())


def test_body_shapes_and_layers() -> None:
    body = tabular_body(inputs=SPEC, layers=[16, 8], ps=[0.1, 0.2], embed_p=0.1)
    assert body.num_features == 8
    x_cat, x_cont = torch.tensor([[1, 2, 3], [0, 0, 0]]), torch.randn(2, 2)
    assert body(x_cat, x_cont).shape == (2, 8)
    linears = [m for m in body.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(3 + 6 + 21 + 2, 16), (16, 8)]
    assert all(m.bias is None for m in linears)  # under BatchNorm
    assert [m.p for m in body.modules() if isinstance(m, nn.Dropout)] == [0.1, 0.1, 0.2]


def test_body_inputs_are_the_input_spec_and_are_checked_in_eval_mode() -> None:
    body = tabular_body(inputs=SPEC, layers=[4])
    assert body.inputs == InputSpec.from_json(SPEC) and "cardinalities" not in body.state_dict()
    body.eval()
    with pytest.raises(ConfigError, match="encoded for other columns"):
        body(torch.tensor([[1, 2, 3]]), torch.randn(1, 3))
    with pytest.raises(ConfigError, match="column 'b'"):
        body(torch.tensor([[1, 10, 3]]), torch.randn(1, 2))
    assert body(torch.tensor([[2, 9, 99]]), torch.randn(1, 2)).shape == (1, 4)


def test_body_without_categorical_or_continuous_columns() -> None:
    only_cont = {**SPEC, "cat_names": [], "cardinalities": []}
    assert tabular_body(inputs=only_cont, layers=[4])(torch.zeros(3, 0, dtype=torch.long), torch.randn(3, 2)).shape == (3, 4)
    only_cat = {**SPEC, "cont_names": [], "n_cont": 0}
    assert tabular_body(inputs=only_cat, layers=[4])(torch.tensor([[1, 1, 1]] * 3), torch.zeros(3, 0)).shape == (3, 4)


def test_body_needs_an_input_spec() -> None:
    with pytest.raises(ConfigError, match="tabular/columns"):
        tabular_body(inputs=None)


def test_grafted_model_output_groups_and_config() -> None:
    model = tabular_model(SPEC, 4, "core/classification", body_kwargs={"layers": [16, 8]}, head_kwargs={"bn_final": False})
    out = model(torch.tensor([[1, 2, 3], [0, 9, 99]]), torch.randn(2, 2))
    assert out.shape == (2, 4)
    groups = model.param_groups()  # check_split: every parameter exactly once
    assert len(groups) == 2
    assert {id(p) for p in groups[0]} == {id(p) for p in model.body.parameters()}
    assert {id(p) for p in groups[1]} == {id(p) for p in model.head.parameters()}
    assert model.config["arch"] == "tabular/embeddings_mlp" and model.config["head"] == "tabular/linear"
    assert model.config["inputs"] == SPEC and model.config["body_kwargs"] == {"layers": [16, 8]}
    rebuilt = graftzoo.from_config(json.loads(json.dumps(model.config)))  # core's one path rebuilds it from JSON
    assert rebuilt.config == model.config and type(rebuilt.body).__name__ == "TabularBody"
    names = set(model.state_dict())
    assert "body.net.embeds.weight" in names and not any("offset" in n for n in names)


def test_y_range_squashes_the_outputs() -> None:
    model = tabular_model(SPEC, 1, "core/regression", body_kwargs={"layers": [4]}, head_kwargs={"y_range": [2.0, 3.0]})
    head = model.head
    with torch.no_grad():
        head.out[0].weight.fill_(1.0)
        head.out[0].bias.zero_()
    features = torch.tensor([[0.0] * 4, [50.0] * 4, [-50.0] * 4, [0.25] * 4])
    out = head(features).flatten()
    assert out[0].item() == pytest.approx(2.5)  # sigmoid(0) = 1/2: the middle of the range
    assert out[1].item() == pytest.approx(3.0) and out[2].item() == pytest.approx(2.0)
    assert out[3].item() == pytest.approx(2.0 + 1 / (1 + math.exp(-1.0)))


def test_freezing_the_body_leaves_the_head_trainable() -> None:
    model = tabular_model(SPEC, 2, body_kwargs={"layers": [8]})
    learn = Learner(None, model, loss_func=nn.CrossEntropyLoss(), device="cpu", quiet=True)
    learn.freeze()
    assert not model.body.net.embeds.weight.requires_grad
    assert all(p.requires_grad for p in model.head.parameters())


def test_manifest_registers_the_arch_and_head() -> None:
    registry = current()
    arch = registry.get("archs", "tabular/embeddings_mlp")
    assert arch.inputs == "tabular/columns" and arch.probe_size == 0 and arch.body is None
    assert arch.steps == {"factory": "graftzoo_tabular.body:build_network", "body": "graftzoo_tabular.body:wrap_body"}
    assert registry.get("preprocessors", "tabular/columns").factory == "graftzoo_tabular.preprocessor:TabularPreprocessor"
    assert registry.get("heads", "tabular/linear").factory == "graftzoo_tabular.head:linear_head"
    from graftzoo.testing import manifest_problems

    assert manifest_problems("tabular", import_factories=True) == []


def test_body_weights_load_from_a_file(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    trained = tabular_body(inputs=SPEC, layers=[8])
    with torch.no_grad():
        trained.net.embeds.weight.normal_()
    path = tmp_path / "body.safetensors"
    save_file(trained.net.state_dict(), str(path))
    loaded = tabular_body(inputs=SPEC, layers=[8], weights=path.as_uri())
    x = (torch.tensor([[1, 2, 3], [0, 5, 7]]), torch.randn(2, 2))
    assert torch.equal(loaded.eval()(*x), trained.eval()(*x))
    with pytest.raises(WeightsError):
        tabular_body(inputs=SPEC, layers=[16], weights=path.as_uri())  # other widths: a clear error
