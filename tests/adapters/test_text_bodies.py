"""One mechanism for every body: LoRA on a BERT's attention projections and on an AWD-LSTM's weight matrices."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn
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


LSTM_WEIGHTS = [f"rnns.{i}.module.weight_{w}_l0" for i in range(2) for w in ("ih", "hh")]


def awd_lstm(folder: Path, **lora: Any) -> Any:
    """A tiny AWD-LSTM classifier (2 LSTMs, 40 tokens) on random but fixed source weights (a safetensors file
    in `folder`), with LoRA(r=2, **lora)."""
    from graftzoo_text.awd_lstm import AWD_LSTM
    from graftzoo_text.preprocessor import TextPreprocessor

    preprocessor = TextPreprocessor(["xxunk", "xxpad"] + [f"w{i}" for i in range(38)])
    torch.manual_seed(0)
    source = folder / "awd_lstm.safetensors"
    save_file(AWD_LSTM(40, 8, 12, 2).state_dict(), str(source))
    model = graftzoo.graft("text/awd_lstm", "text/classify", n_out=2, inputs=preprocessor.input_spec(), weights=source.as_uri(),
                           body_kwargs={"emb_sz": 8, "n_hid": 12, "n_layers": 2}, adapters=LoRA(r=2, **lora))
    model.preprocessor = preprocessor
    return model


def test_awd_lstm_weight_matrices_take_adapters_train_with_their_layer_and_round_trip(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    model = awd_lstm(tmp_path)
    assert model.adapters["target_modules"] == LSTM_WEIGHTS  # the family default: every LSTM weight, not the embedding
    trainable = [n for n, p in model.body.named_parameters() if p.requires_grad]
    assert trainable and all(".lora_" in n for n in trainable) and len(trainable) == 2 * len(LSTM_WEIGHTS)
    groups = model.body.param_groups()  # embedding, then one group per LSTM layer: each layer's adapters sit with it
    for index, layer in enumerate(model.body.net.rnns, start=1):
        adapters = {id(p) for n, p in layer.named_parameters() if ".lora_" in n}
        assert len(adapters) == 4 and adapters <= {id(p) for p in groups[index]}
    ids = torch.randint(2, 40, (3, 10))
    model.train()
    lstm = model.body.net.rnns[0].module.get_base_layer()
    before = lstm.weight_hh_l0.detach().clone()
    lora_a = {n: p.detach().clone() for n, p in model.named_parameters() if ".lora_A" in n}
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    for _ in range(2):  # in training, weight dropout runs through the adapters and the adapters learn
        model.body.net.reset()
        loss = nn.functional.cross_entropy(model(ids), torch.tensor([0, 1, 0]))
        opt.zero_grad()
        loss.backward()
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for n, p in model.named_parameters() if ".lora_B" in n)
        opt.step()
    assert all(not torch.equal(p, lora_a[n]) for n, p in model.named_parameters() if ".lora_A" in n)  # B moved first, then A
    assert torch.equal(lstm.weight_hh_l0, before) and not torch.nn.utils.parametrize.is_parametrized(lstm)
    model.eval()
    model.body.net.reset()
    with torch.no_grad():
        expected = model(ids)
    folder = model.save_head(tmp_path / "head", vocab=["neg", "pos"])
    assert sorted(json.loads((folder / "graftzoo.json").read_text())["body_tensors"]) == sorted(
        f"body.{n}" for n in trainable)  # only the adapters travel: no LSTM or embedding weight
    loaded = graftzoo.load_head(folder).eval()
    merged = model.merge().eval()
    assert not [n for n in merged.state_dict() if ".lora_" in n or "base_layer" in n]
    with torch.no_grad():
        loaded.body.net.reset()
        assert torch.equal(loaded(ids), expected)
        merged.body.net.reset()
        torch.testing.assert_close(merged(ids), expected, rtol=1e-4, atol=1e-5)


def test_awd_lstm_adapters_refuse_dropout_and_a_name_that_is_no_weight(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"RNN weights such as 'rnns.0.module.weight_ih_l0'.*LoRA\(dropout=0\)"):
        awd_lstm(tmp_path, dropout=0.1)
    with pytest.raises(ConfigError, match="names no Conv2d/Linear layer or RNN weight"):
        awd_lstm(tmp_path, target_modules=("rnns.0.module.bias_ih_l0",))


def test_awd_lstm_weight_dropout_drops_the_source_weights_and_adds_the_adapters_update(tmp_path: Path) -> None:
    from graftzoo_text.awd_lstm import dropout_mask

    layer = awd_lstm(tmp_path).body.net.rnns[0].train()  # WeightDropout around peft's two wrappers
    with torch.no_grad():
        for name, p in layer.named_parameters():
            if ".lora_B" in name:
                p.normal_()
    lstm = layer.module.get_base_layer()
    deltas = {w.parameter_name: w.get_delta_weight("default") for w in (layer.module, layer.module.base_layer)}
    x, zeros = torch.randn(2, 5, 8), torch.zeros(1, 2, 12)
    torch.manual_seed(1)
    out, _ = layer(x, (zeros, zeros))
    torch.manual_seed(1)
    mask = dropout_mask(lstm.weight_hh_l0, tuple(lstm.weight_hh_l0.shape), layer.weight_p)
    weights = {"weight_hh_l0": lstm.weight_hh_l0 * mask + deltas["weight_hh_l0"],
               "weight_ih_l0": lstm.weight_ih_l0 + deltas["weight_ih_l0"]}
    expected, _ = torch.func.functional_call(lstm, weights, (x, (zeros, zeros)))
    assert 0 < layer.weight_p and bool((mask == 0).any())
    torch.testing.assert_close(out, expected)
    assert not torch.nn.utils.parametrize.is_parametrized(lstm)  # the mask lived for that forward only
