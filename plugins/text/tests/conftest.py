"""Fixtures of the graftzoo-text tests: tiny AWD-LSTM models, one thread."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import torch

import graftzoo
from graftzoo.grafting import GraftedModel
from graftzoo.testing import FakePluginSite

TINY = {"emb_sz": 12, "n_hid": 20, "n_layers": 3}
INPUTS = {"kind": "text/tokens", "vocab_size": 40, "pad_idx": 1}


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """LSTMs on 2 cores are fastest with one thread (and so are these tiny models); restored after each test."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _tiny_lm(**head_kwargs: Any) -> GraftedModel:
    return graftzoo.graft("text/awd_lstm", "text/lm", n_out=40, inputs=INPUTS, body_kwargs=TINY, head_kwargs=head_kwargs)


def _tiny_classifier(bptt: int = 4, max_len: int | None = None) -> GraftedModel:
    return graftzoo.graft("text/awd_lstm", "text/classify", n_out=3, inputs=INPUTS, body_kwargs=TINY,
                          head_kwargs={"bptt": bptt, "max_len": max_len})


@pytest.fixture
def tiny_lm() -> Callable[..., GraftedModel]:
    """Builds an AWD-LSTM (emb 12, hidden 20, 3 layers, vocabulary 40) with the text/lm head."""
    return _tiny_lm


@pytest.fixture
def tiny_classifier() -> Callable[..., GraftedModel]:
    """Builds the same body with a 3-class text/classify head (bptt 4 by default)."""
    return _tiny_classifier


@pytest.fixture
def tiny_config() -> dict[str, Any]:
    return dict(TINY)


@pytest.fixture
def tiny_inputs() -> dict[str, Any]:
    return dict(INPUTS)


TINY_BERT_INPUTS = {"kind": "text/wordpiece", "vocab_size": 40, "pad_idx": 0}
TINY_BERT_MANIFEST = """
[plugin]
name = "tiny"
namespace = "tiny"
api_version = 1

[[archs]]
name = "bert"
factory = "graftzoo_text.bert:bert_model"
body = "graftzoo_text.bert:build_body"
split = "graftzoo_text.bert:bert_split"
inputs = "text/wordpiece"
probe_size = 0
factory_kwargs = { vocab_size = 40, hidden_size = 16, num_hidden_layers = 3, num_attention_heads = 2, intermediate_size = 32 }
"""


@pytest.fixture
def tiny_bert(fake_plugin_site: FakePluginSite) -> str:
    """A registered 3-layer BERT (`tiny/bert`, hidden 16, vocabulary 40) next to the installed plugins."""
    fake_plugin_site.add("graftzoo-tiny", plugin="tiny", manifest=TINY_BERT_MANIFEST)
    fake_plugin_site.registry(include_installed=True)
    return "tiny/bert"
