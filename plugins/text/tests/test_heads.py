"""fastai's splits, tied weights stored once, vocabulary re-indexing, encoder files."""

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from graftzoo.errors import WeightsError
from graftzoo.grafting import GraftedModel
from graftzoo.learner.checkpoint import save_checkpoint
from graftzoo_text.encoder_io import load_encoder, match_embeds, save_encoder



def _ids(params: list[torch.nn.Parameter]) -> set[int]:
    return {id(p) for p in params}


def test_language_model_split_is_fastais(tiny_lm: Callable[..., GraftedModel]) -> None:
    model = tiny_lm()
    net = model.body.net
    groups = model.param_groups()
    assert len(groups) == 4  # one per LSTM layer, then embedding + decoder
    for group, rnn in zip(groups, net.rnns):
        assert _ids(group) == _ids(list(rnn.parameters()))
    assert _ids(groups[3]) == {id(net.encoder.weight), id(model.head.bias)}


def test_classifier_split_is_fastais(tiny_classifier: Callable[..., GraftedModel]) -> None:
    model = tiny_classifier()
    net = model.body.net
    groups = model.param_groups()
    assert len(groups) == 5  # embedding, each LSTM layer, head
    assert _ids(groups[0]) == {id(net.encoder.weight)}
    for group, rnn in zip(groups[1:4], net.rnns):
        assert _ids(group) == _ids(list(rnn.parameters()))
    assert _ids(groups[4]) == _ids(list(model.head.parameters()))


def test_decoder_is_tied_and_stored_once(tmp_path: Path, tiny_lm: Callable[..., GraftedModel]) -> None:
    model = tiny_lm()
    x = torch.randint(2, 40, (2, 5))
    logits = model(x)
    assert logits.shape == (2, 5, 40)
    assert model.head.decoder_weight is model.body.net.encoder.weight
    keys = list(model.state_dict())
    assert [k for k in keys if k.endswith("weight") and "encoder" in k] == ["body.net.encoder.weight"]
    assert not any("decoder" in k or "encoder_dp" in k for k in keys)
    file = save_checkpoint(tmp_path / "lm.safetensors", model, None)
    with safe_open(str(file), "pt") as f:
        assert sum(1 for k in f.keys() if f.get_slice(k).get_shape() == [40, 12]) == 1
    untied = tiny_lm(tie_weights=False)
    assert untied.head.decoder_weight is not untied.body.net.encoder.weight


def test_match_embeds_keeps_known_rows_and_gives_new_tokens_the_mean() -> None:
    weight = torch.arange(12.0).view(4, 3)
    bias = torch.tensor([1.0, 2.0, 3.0, 6.0])
    new_w, new_b = match_embeds(weight, ["a", "b", "c", "d"], ["c", "new", "a"], bias)
    assert new_w.tolist() == [weight[2].tolist(), weight.mean(0).tolist(), weight[0].tolist()]
    assert new_b is not None and new_b.tolist() == [3.0, 3.0, 1.0]


def test_encoder_file_round_trip_and_reindexing(tmp_path: Path, tiny_lm: Callable[..., GraftedModel]) -> None:
    source = tiny_lm().body.net
    old_vocab = [f"t{i}" for i in range(40)]
    file = save_encoder(source, tmp_path / "enc.safetensors", old_vocab, decoder_bias=torch.arange(40.0))
    with safe_open(str(file), "pt") as f:
        assert sorted(k for k in f.keys() if "encoder" in k) == ["encoder.weight"]
    target = tiny_lm().body.net
    new_vocab = list(reversed(old_vocab))
    bias = load_encoder(target, file, new_vocab)
    assert torch.equal(target.encoder.weight, source.encoder.weight.flip(0))
    assert bias is not None and bias.tolist() == list(reversed(range(40)))
    assert torch.equal(target.rnns[1].module.weight_hh_l0, source.rnns[1].module.weight_hh_l0)
    (tmp_path / "bad.safetensors").write_bytes(b"not a file")
    with pytest.raises(WeightsError, match="not a readable"):
        load_encoder(target, tmp_path / "bad.safetensors")
    with pytest.raises(WeightsError, match="no encoder file"):
        load_encoder(target, tmp_path / "missing.safetensors")
