"""The WordPiece preprocessor's own-vocabulary state, its inputs and its errors (no packaged model needed)."""

from __future__ import annotations

import json

import pytest
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

from graftzoo.errors import ConfigError
from graftzoo_text.bert_weights import PACKAGED_CHECKPOINTS
from graftzoo_text.wordpiece import WordPiecePreprocessor

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "##s", "a"]


def tiny_tokenizer() -> Tokenizer:
    tokenizer = Tokenizer(models.WordPiece({t: i for i, t in enumerate(VOCAB)}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    return tokenizer


def test_ids_are_cls_text_sep_right_padded() -> None:
    pre = WordPiecePreprocessor(tiny_tokenizer())
    assert pre(["The CATS sat on a dog", "mat"]).tolist() == [[2, 5, 6, 10, 7, 8, 11, 1, 3], [2, 9, 3, 0, 0, 0, 0, 0, 0]]
    assert pre("a cat").tolist() == [[2, 11, 6, 3]]


def test_own_vocabulary_travels_in_the_state() -> None:
    pre = WordPiecePreprocessor(tiny_tokenizer(), max_length=6)
    state = json.loads(json.dumps(pre.state()))
    assert state["kind"] == "text/wordpiece" and state["max_length"] == 6
    assert state["tokenizer"]["json"]["model"]["vocab"] == {t: i for i, t in enumerate(VOCAB)}
    again = WordPiecePreprocessor.from_state(state)
    texts = ["the cats sat on the mat", "a"]
    assert again(texts).tolist() == pre(texts).tolist() == [[2, 5, 6, 10, 7, 3], [2, 11, 3, 0, 0, 0]]
    assert again.input_spec() == pre.input_spec()
    assert pre.input_spec().to_json() == {"kind": "text/wordpiece", "vocab_size": 12, "pad_idx": 0}


def test_unknown_packaged_reference_is_refused() -> None:
    known = PACKAGED_CHECKPOINTS["all-minilm-l6-v2"]
    for tokenizer in ({"packaged": "all-minilm-l12-v2", "sha256": known.tokenizer_sha256},
                      {"packaged": "all-minilm-l6-v2", "sha256": "0" * 64}):
        with pytest.raises(ConfigError, match="does not serve"):
            WordPiecePreprocessor.from_state({"kind": "text/wordpiece", "max_length": 128, "tokenizer": tokenizer})


@pytest.mark.parametrize("state", [
    {"kind": "vision/image"},
    {"kind": "text/wordpiece"},
    {"kind": "text/wordpiece", "tokenizer": {"json": {"model": "not a tokenizer"}}},
    {"kind": "text/wordpiece", "max_length": 1, "tokenizer": {"json": json.loads(tiny_tokenizer().to_str())}},
])
def test_bad_states_are_config_errors(state: dict) -> None:
    with pytest.raises(ConfigError):
        WordPiecePreprocessor.from_state(state)


def test_bad_inputs_are_named() -> None:
    pre = WordPiecePreprocessor(tiny_tokenizer())
    with pytest.raises(ConfigError, match="text 1 is a int"):
        pre(["a cat", 3])  # type: ignore[list-item]
    with pytest.raises(ConfigError, match="non-empty list"):
        pre([])


def test_a_tokenizer_that_cannot_pad_is_refused() -> None:
    tokenizer = Tokenizer(models.WordPiece({"[UNK]": 0, "a": 1}, unk_token="[UNK]"))
    with pytest.raises(ConfigError, match="no \\[PAD\\] token"):
        WordPiecePreprocessor(tokenizer)
