"""fastai checkpoints convert into graftzoo encoder files; with fastai importable, the same weights give
the same outputs in both libraries (language model, and classifier through BPT3C)."""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from graftzoo.grafting import GraftedModel
from graftzoo_text.fastai_weights import convert_fastai_lm, encoder_from_fastai
from graftzoo_text.learner import language_model_learner
from graftzoo_text.padding import pad_chunks


def _fastai_style(model: GraftedModel) -> dict[str, torch.Tensor]:
    """The state dict fastai's `get_language_model` has for the same weights (key names as fastai 2.8)."""
    net = model.body.net
    state = {"0.encoder.weight": net.encoder.weight, "0.encoder_dp.emb.weight": net.encoder.weight}
    for i, rnn in enumerate(net.rnns):
        lstm = rnn.module
        state[f"0.rnns.{i}.weight_hh_l0_raw"] = lstm.weight_hh_l0
        for name in ("weight_ih_l0", "bias_ih_l0", "bias_hh_l0"):
            state[f"0.rnns.{i}.module.{name}"] = getattr(lstm, name)
    state["1.decoder.weight"] = net.encoder.weight
    state["1.decoder.bias"] = model.head.bias
    return {k: v.detach().clone() for k, v in state.items()}


def test_convert_fastai_checkpoint(tmp_path: Path, tiny_lm: Callable[..., GraftedModel], graftzoo_home: Path) -> None:
    import pandas as pd

    from graftzoo_text.data import TextDataLoaders

    source = tiny_lm()
    torch.nn.init.normal_(source.head.bias)
    vocab = [f"w{i}" for i in range(40)]
    torch.save(_fastai_style(source), tmp_path / "lstm_fwd.pth")
    file = convert_fastai_lm(tmp_path / "lstm_fwd.pth", vocab, tmp_path / "wt.safetensors")
    texts = [" ".join(f"w{(i * 7 + j) % 40}" for j in range(8)) for i in range(60)]
    dls = TextDataLoaders.from_df(pd.DataFrame({"text": texts}), is_lm=True, bs=4, seq_len=8, min_freq=1)
    learn = language_model_learner(dls, config={"emb_sz": 12, "n_hid": 20, "n_layers": 3}, weights=str(file), quiet=True)
    net = learn.model.body.net
    row = dls.text_vocab.index("w5")
    assert torch.equal(net.encoder.weight[row], source.body.net.encoder.weight[5])
    assert learn.model.head.bias[row] == source.head.bias[5]
    assert torch.equal(net.rnns[2].module.weight_hh_l0, source.body.net.rnns[2].module.weight_hh_l0)
    tensors, _ = encoder_from_fastai(_fastai_style(source))
    assert "encoder_dp.emb.weight" not in tensors and "rnns.0.module.weight_hh_l0" in tensors


CONFIG = dict(emb_sz=12, n_hid=20, n_layers=2, pad_token=1, bidir=False)


def test_same_outputs_as_fastai(tiny_inputs: dict) -> None:
    fastai_text = pytest.importorskip("fastai.text.all", reason="fastai is only a benchmark anchor")
    import graftzoo

    torch.manual_seed(0)
    lm_cfg = dict(CONFIG, output_p=0.1, hidden_p=0.15, input_p=0.25, embed_p=0.02, weight_p=0.2, tie_weights=True, out_bias=True)
    fa_lm = fastai_text.get_language_model(fastai_text.AWD_LSTM, 40, config=lm_cfg).eval()
    tensors, bias = encoder_from_fastai(fa_lm.state_dict())
    sizes = {"emb_sz": 12, "n_hid": 20, "n_layers": 2}
    ours = graftzoo.graft("text/awd_lstm", "text/lm", n_out=40, inputs=tiny_inputs, body_kwargs=sizes).eval()
    ours.body.net.load_state_dict(tensors)
    assert bias is not None and ours.head.bias is not None
    ours.head.bias.data.copy_(bias)
    x = torch.randint(2, 40, (3, 9))
    fa_lm.reset()
    with torch.no_grad():
        assert torch.allclose(ours(x), fa_lm(x)[0], atol=1e-5)

    clas_cfg = dict(CONFIG, output_p=0.4, hidden_p=0.3, input_p=0.4, embed_p=0.05, weight_p=0.5)
    fa_clas = fastai_text.get_text_classifier(fastai_text.AWD_LSTM, 40, 3, seq_len=4, config=clas_cfg).eval()
    state = fa_clas.state_dict()
    tensors, _ = encoder_from_fastai(state)
    ours = graftzoo.graft("text/awd_lstm", "text/classify", n_out=3, inputs=tiny_inputs, body_kwargs=sizes,
                          head_kwargs={"bptt": 4, "max_len": 72 * 20}).eval()
    ours.body.net.load_state_dict(tensors)
    ours.head.load_state_dict({k.removeprefix("1."): v for k, v in state.items() if k.startswith("1.")})
    lengths = [12, 10, 9, 6, 5]  # sorted, each ending in the batch's last chunk: fastai's own layout
    batch = pad_chunks([np.random.default_rng(i).integers(2, 40, n) for i, n in enumerate(lengths)], 1, 4)
    with torch.no_grad():
        assert torch.allclose(ours(batch), fa_clas(batch)[0], atol=1e-5)
