"""fastai's vocabulary order and size, and the TextPreprocessor built on it."""

from collections import Counter

import pytest
import torch

from graftzoo.errors import ConfigError
from graftzoo_text.preprocessor import TextPreprocessor
from graftzoo_text.rules import SPECIAL_TOKENS
from graftzoo_text.vocab import FAKE, Numericalize, make_vocab


def test_order_min_freq_and_padding_to_8() -> None:
    docs = [["b", "a", "c", "a"], ["c", "b", "a", "d", "xxmaj", "e"], ["b", "c", "e", "e"]]
    # counts: a 3, b 3, c 3, e 3, d 1, xxmaj 1; ties keep the order of first appearance
    vocab = Numericalize.from_tokens(docs, min_freq=3).vocab
    assert vocab[:9] == list(SPECIAL_TOKENS)
    assert vocab[9:13] == ["b", "a", "c", "e"]
    assert len(vocab) == 16 and vocab[13:] == [FAKE] * 3


def test_max_vocab_counts_the_special_tokens_and_a_full_multiple_gets_8_more() -> None:
    count = Counter({f"w{i}": 100 - i for i in range(20)})
    vocab = make_vocab(count, min_freq=1, max_vocab=16)
    assert vocab[:16] == list(SPECIAL_TOKENS) + [f"w{i}" for i in range(7)]
    assert vocab[16:] == [FAKE] * 8  # fastai: 8 - len % 8 fillers, 8 when already a multiple


def test_unknown_tokens_map_to_xxunk_and_fake_is_never_produced() -> None:
    num = Numericalize(list(SPECIAL_TOKENS) + ["hi"] + [FAKE] * 6)
    assert num.encode(["hi", "never-seen", FAKE]).tolist() == [9, 0, 0]
    assert num.decode([9, 1]) == ["hi", "xxpad"]
    with pytest.raises(ConfigError, match="xxunk"):
        Numericalize(["hi", "xxunk"])


def test_preprocessor_pads_first_in_chunks_and_round_trips_its_state() -> None:
    texts = ["the cat sat on the mat"] * 3 + ["the dog"] * 3
    pre = TextPreprocessor.fit(texts, min_freq=1, seq_len=3)
    assert pre.input_spec().to_json() == {"kind": "text/tokens", "vocab_size": len(pre.vocab), "pad_idx": 1,
                                          "fingerprint": pre.fingerprint}
    batch = pre(["the cat sat on the mat", "the dog"])  # 7 and 3 tokens (with xxbos)
    assert batch.dtype == torch.long and batch.shape == (2, 7)
    assert batch[1].tolist()[:3] == [1, 1, 1]  # one whole chunk of padding first ...
    assert batch[1].tolist()[6:] == [1]  # ... the remainder at the end
    assert pre.decode(batch[1]) == "xxbos the dog"
    again = TextPreprocessor.from_state(pre.state())
    assert torch.equal(again(["the dog sat"]), pre(["the dog sat"]))
    with pytest.raises(ConfigError):
        TextPreprocessor.from_state({"kind": "vision/image"})
