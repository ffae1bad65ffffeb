"""Numeric-feature embeddings (periodic, piecewise-linear) as an option of the body."""

from __future__ import annotations

import math

import pytest
import torch
from sklearn.datasets import load_breast_cancer

from graftzoo_tabular import TabularDataLoaders, tabular_body, tabular_learner
from graftzoo_tabular.cont_embeddings import PeriodicEmbeddings, PiecewiseLinearEmbeddings, quantile_bins
from graftzoo_tabular.errors import ConfigError

SPEC = {"kind": "tabular/columns", "cat_names": ["a"], "cardinalities": [3], "cont_names": ["x", "y"], "n_cont": 2, "fingerprint": "sha256:0"}


def test_piecewise_linear_encoding_by_hand() -> None:
    ple = PiecewiseLinearEmbeddings([[0.0, 1.0, 3.0, 4.0], [10.0, 20.0]], d_embedding=2)
    x = torch.tensor([[-1.0, 5.0], [0.5, 15.0], [2.0, 25.0], [5.0, 20.0]])
    enc = ple.encode(x)
    assert enc.shape == (4, 2, 3)
    assert enc[:, 0].tolist() == [[-1.0, 0.0, 0.0], [0.5, 0.0, 0.0], [1.0, 0.5, 0.0], [1.0, 1.0, 2.0]]
    assert enc[:, 1].tolist() == [[-0.5, 0.0, 0.0], [0.5, 0.0, 0.0], [1.5, 0.0, 0.0], [1.0, 0.0, 0.0]]  # one bin, padded
    assert ple(x).shape == (4, 4)


def test_quantile_bins_from_training_values() -> None:
    x = torch.stack([torch.arange(101.0), torch.full((101,), 7.0)], dim=1)
    bins = quantile_bins(x, n_bins=4)
    assert bins[0] == [0.0, 25.0, 50.0, 75.0, 100.0]
    assert bins[1] == [7.0, 8.0]  # a constant column still gets one bin


def test_periodic_embeddings_shape_and_frequencies() -> None:
    torch.manual_seed(0)
    emb = PeriodicEmbeddings(3, d_embedding=4, n_frequencies=5, sigma=0.1)
    assert bool((emb.frequencies.abs() <= 0.3 + 1e-6).all())  # clipped at 3 sigma
    x = torch.randn(6, 3)
    out = emb(x)
    assert out.shape == (6, 12) and bool((out >= 0).all())
    angles = 2 * math.pi * emb.frequencies[1] * x[2, 1]
    v = torch.cat([torch.cos(angles), torch.sin(angles)])
    by_hand = torch.relu(v @ emb.linear.weight[1] + emb.linear.bias[1])
    assert torch.allclose(out[2, 4:8], by_hand, atol=1e-6)


@pytest.mark.parametrize("kind", ["periodic", "piecewise_linear"])
def test_body_with_cont_emb(kind: str) -> None:
    bins = [[-1.0, 0.0, 1.0], [-2.0, 2.0]] if kind == "piecewise_linear" else None
    body = tabular_body(inputs=SPEC, layers=[8], cont_emb=kind, cont_emb_dim=5, cont_bins=bins)
    assert body.net.bn_cont is None
    assert body.net.layers[0][0].in_features == 3 + 2 * 5  # emb_sz_rule(3) = 3, then 5 per continuous column
    out = body(torch.tensor([[1], [2]]), torch.randn(2, 2))
    assert out.shape == (2, 8)


def test_piecewise_linear_needs_bins() -> None:
    with pytest.raises(ConfigError, match="cont_bins"):
        tabular_body(inputs=SPEC, cont_emb="piecewise_linear")
    with pytest.raises(ConfigError, match="cont_emb"):
        tabular_body(inputs=SPEC, cont_emb="fourier")


def test_learner_with_piecewise_linear_embeddings_learns() -> None:
    torch.manual_seed(0)
    df = load_breast_cancer(as_frame=True).frame
    dls = TabularDataLoaders.from_df(df, "target", seed=0, device="cpu")
    learn = tabular_learner(dls, layers=[32], config={"cont_emb": "piecewise_linear", "n_bins": 8, "cont_emb_dim": 4}, quiet=True)
    bins = learn.model.config["body_kwargs"]["cont_bins"]
    assert len(bins) == 30 and all(len(b) <= 9 for b in bins)
    learn.fit_one_cycle(3, 1e-2)
    assert learn.validate()[1] > 0.9
