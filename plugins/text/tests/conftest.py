"""Fixtures of the graftzoo-text tests: tiny AWD-LSTM models, one thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch

from graftzoo.grafting import GraftedModel
from graftzoo.registry import get_arch
from graftzoo.task import ClassificationTask
from graftzoo_text.body import awd_lstm_body
from graftzoo_text.classify_head import classify_head
from graftzoo_text.lm_head import lm_head
from graftzoo_text.tasks import LanguageModelTask

torch.set_num_threads(1)
TINY = {"emb_sz": 12, "n_hid": 20, "n_layers": 3}
INPUTS = {"kind": "text/tokens", "vocab_size": 40, "pad_idx": 1}


def _tiny_lm(**head_kwargs: Any) -> GraftedModel:
    body = awd_lstm_body(get_arch("text/awd_lstm"), inputs=INPUTS, config=TINY)
    head = lm_head(body, 40, **head_kwargs)
    return GraftedModel(body, head, task=LanguageModelTask(), config={})


def _tiny_classifier(bptt: int = 4, max_len: int | None = None) -> GraftedModel:
    body = awd_lstm_body(get_arch("text/awd_lstm"), inputs=INPUTS, config=TINY)
    head = classify_head(body, 3, bptt=bptt, max_len=max_len)
    return GraftedModel(body, head, task=ClassificationTask(), config={})


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
