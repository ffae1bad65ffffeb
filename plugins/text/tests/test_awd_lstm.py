"""AWD-LSTM: fastai's config and dropouts, hidden state carried across batches, BPT3C independence."""

from collections.abc import Callable

import pytest
import torch

from graftzoo.errors import ConfigError
from graftzoo.grafting import GraftedModel
from graftzoo_text.awd_lstm import AWD_LSTM
from graftzoo_text.body import awd_lstm_body, encoder_config
from graftzoo_text.classify_head import masked_concat_pool
from graftzoo_text.padding import chunk_align, pad_chunks



def test_fastai_default_config_and_drop_mult(tiny_inputs: dict, tiny_config: dict) -> None:
    cfg = encoder_config(drop_mult=0.5)
    assert (cfg["emb_sz"], cfg["n_hid"], cfg["n_layers"]) == (400, 1152, 3)
    assert cfg["hidden_p"] == pytest.approx(0.075) and cfg["input_p"] == pytest.approx(0.125)
    assert cfg["embed_p"] == pytest.approx(0.01) and cfg["weight_p"] == pytest.approx(0.1)
    net = awd_lstm_body(tiny_inputs, **tiny_config).net
    assert [r.module.hidden_size for r in net.rnns] == [20, 20, 12]
    assert net.encoder.padding_idx == 1 and net.encoder.num_embeddings == 40
    with pytest.raises(ConfigError, match="vocabulary"):
        awd_lstm_body()
    with pytest.raises(ConfigError, match="vocab_size must be an int from 2 to 1,000,000"):
        awd_lstm_body({**tiny_inputs, "vocab_size": 10**7}, **tiny_config)
    with pytest.raises(ConfigError, match="parameters, more than"):
        awd_lstm_body({**tiny_inputs, "vocab_size": 10**6}, emb_sz=4096)
    with pytest.raises(ConfigError, match="n_hid"):
        awd_lstm_body(tiny_inputs, n_hid=10**6)
    with pytest.raises(ConfigError, match="unknown"):
        encoder_config({"emb_size": 3})


def test_weight_dropout_only_in_training_and_only_on_hidden_weights() -> None:
    torch.manual_seed(0)
    net = AWD_LSTM(30, 8, 16, 2, hidden_p=0, input_p=0, embed_p=0, weight_p=0.5)
    lstm = net.rnns[0].module
    assert isinstance(lstm, torch.nn.LSTM)
    before = {name: p.detach().clone() for name, p in lstm.named_parameters()}
    x = torch.randint(2, 30, (2, 6))
    net.eval(); net.reset(); a = net(x)
    net.reset(); b = net(x)
    assert torch.equal(a, b)  # no dropout in eval
    net.train(); net.reset(); c = net(x)
    assert not torch.allclose(a, c)  # the hidden-to-hidden weights were dropped
    c.sum().backward()
    for name, p in lstm.named_parameters():
        assert torch.equal(p, before[name])  # the parameters themselves are never overwritten
        assert p.grad is not None and bool(p.grad.abs().sum() > 0)  # and they all get gradients
    grad_hh = lstm.get_parameter("weight_hh_l0").grad
    assert grad_hh is not None and 0.3 < (grad_hh == 0).float().mean().item() < 0.7  # dropped weights (p=0.5) get none


def test_hidden_state_is_carried_from_batch_to_batch(tiny_lm: Callable[..., GraftedModel]) -> None:
    net = tiny_lm().body.net.eval()
    x = torch.randint(2, 40, (3, 10))
    net.reset()
    whole = net(x)
    net.reset()
    parts = torch.cat([net(x[:, :4]), net(x[:, 4:])], dim=1)
    assert torch.allclose(whole, parts, atol=1e-6)


def test_chunk_align_lays_out_like_pad_chunks() -> None:
    seqs = [torch.arange(2, 9).numpy(), torch.arange(2, 4).numpy(), torch.arange(2, 12).numpy()]
    aligned = pad_chunks(seqs, 1, 4)
    assert torch.equal(chunk_align(aligned, 1, 4), aligned)
    pad_last = pad_chunks(seqs, 1, 4, pad_first=False)
    assert torch.equal(chunk_align(pad_last, 1, 4), aligned)


@pytest.mark.parametrize("max_len", [None, 8])
def test_bpt3c_output_of_a_text_is_the_same_alone_and_in_any_batch(
    max_len: int | None, tiny_classifier: Callable[..., GraftedModel]
) -> None:
    torch.manual_seed(0)
    model = tiny_classifier(bptt=4, max_len=max_len).eval()
    texts = [torch.randint(2, 40, (n,)).numpy() for n in (3, 11, 6, 1, 9)]
    alone = torch.cat([model(pad_chunks([t], 1, 4)) for t in texts])
    with torch.no_grad():
        for order in ([1, 4, 2, 0, 3], [0, 1, 2, 3, 4], [3, 0, 2, 4, 1]):  # sorted and not sorted
            batch = model(pad_chunks([texts[i] for i in order], 1, 4))
            assert torch.allclose(batch, alone[order], atol=1e-5)
        pad_last = model(pad_chunks(texts, 1, 4, pad_first=False))  # and padded the wrong way
        assert torch.allclose(pad_last, alone, atol=1e-5)


def test_masked_concat_pool_ignores_padding() -> None:
    out = torch.arange(12.0).view(1, 6, 2)
    mask = torch.tensor([[True, False, False, False, True, True], [True, True, True, True, False, True]])
    pooled = masked_concat_pool(out.repeat(2, 1, 1), mask)
    assert pooled[0].tolist() == [6.0, 7.0, 6.0, 7.0, 4.0, 5.0]  # tokens at 1..3: last, max, mean
    assert pooled[1].tolist() == [8.0, 9.0] * 3  # one token, shorter than the padding after it
