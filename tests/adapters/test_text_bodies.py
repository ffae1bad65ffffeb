"""One mechanism for every body: LoRA on a BERT's attention projections; AWD-LSTM has no layer LoRA can take."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

import graftzoo
from graftzoo.adapters import LoRA
from graftzoo.errors import ConfigError

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "##s", "a"]
TINY = {"vocab_size": 12, "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 32}
INPUTS = {"kind": "text/wordpiece", "vocab_size": 12, "pad_idx": 0}
ATTENTION = [f"encoder.layer.{i}.{p}" for i in range(2)
             for p in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense")]


@pytest.fixture
def checkpoint(tmp_path: Path) -> str:
    """A tiny BERT checkpoint folder (config.json, model.safetensors, tokenizer.json), random but fixed."""
    from graftzoo_text.bert import BertConfig, BertModel

    torch.manual_seed(0)
    net = BertModel(BertConfig(**TINY))  # type: ignore[arg-type]
    folder = tmp_path / "bert"
    folder.mkdir()
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps({"model_type": "bert", **net.config.to_dict()}))
    tokenizer = Tokenizer(models.WordPiece({t: i for i, t in enumerate(VOCAB)}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    tokenizer.save(str(folder / "tokenizer.json"))
    return folder.as_uri()


def test_bert_attention_projections_take_adapters_and_round_trip(checkpoint: str, tmp_path: Path) -> None:
    from peft.tuners.lora import LoraLayer

    model = graftzoo.graft("text/bert", "text/pooled_classify", n_out=2, weights=checkpoint, inputs=INPUTS, adapters=LoRA(r=2))
    assert [n for n, m in model.body.net.named_modules() if isinstance(m, LoraLayer)] == ATTENTION  # not the FFN denses
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".lora_B." in name or name.startswith("head."):
                p.add_(0.1 * torch.randn_like(p))
    model.eval()
    ids = torch.tensor([[2, 5, 6, 10, 3, 0], [2, 11, 9, 3, 0, 0]])
    with torch.no_grad():
        expected = model(ids)
    folder = model.save_head(tmp_path / "head", vocab=["neg", "pos"])
    config = json.loads((folder / "graftzoo.json").read_text())
    assert config["adapters"]["target_modules"] == ATTENTION
    assert not [k for k in config["body_tensors"] if ".lora_" not in k]  # no LayerNorm or embedding travels
    loaded = graftzoo.load_head(folder)
    with torch.no_grad():
        assert torch.equal(loaded(ids), expected)
        torch.testing.assert_close(model.merge().eval()(ids), expected, rtol=1e-4, atol=1e-5)


def test_awd_lstm_has_no_layer_lora_can_adapt() -> None:
    inputs = {"kind": "text/tokens", "vocab_size": 40, "pad_idx": 1}
    with pytest.raises(ConfigError, match="no ungrouped Conv2d or Linear layer"):
        graftzoo.graft("text/awd_lstm", "text/classify", n_out=2, inputs=inputs,
                       body_kwargs={"emb_sz": 8, "n_hid": 8, "n_layers": 1}, adapters=LoRA(r=2))
