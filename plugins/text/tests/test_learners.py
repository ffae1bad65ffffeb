"""The text learners: fastai's callbacks, freezing, encoder hand-over from LM to classifier, generation."""

from pathlib import Path

import pandas as pd
import pytest
import torch

from graftzoo.errors import ConfigError
from graftzoo_text.awd_lstm import AWD_LSTM
from graftzoo_text.callbacks import RNNRegularizer
from graftzoo_text.data import TextDataLoaders
from graftzoo_text.learner import language_model_learner, text_classifier_learner

TINY = {"emb_sz": 8, "n_hid": 16, "n_layers": 2}
WORDS = "the cat dog sat ran on a mat rug and then slept".split()


def _df(n: int = 120) -> pd.DataFrame:
    g = torch.Generator().manual_seed(0)
    texts = [" ".join(WORDS[int(i)] for i in torch.randint(0, len(WORDS), (6,), generator=g)) for _ in range(n)]
    return pd.DataFrame({"text": texts, "label": ["a" if "cat" in t else "b" for t in texts]})


@pytest.fixture
def lm_dls(graftzoo_home: Path) -> TextDataLoaders:
    return TextDataLoaders.from_df(_df(), text_col="text", is_lm=True, bs=4, seq_len=10, seed=0, min_freq=1)


def test_regularizer_adds_ar_and_tar(lm_dls: TextDataLoaders, tmp_path: Path) -> None:
    learn = language_model_learner(lm_dls, config=TINY, weights=None, quiet=True, path=tmp_path, alpha=2.0, beta=1.0)
    reg = next(cb for cb in learn.cbs if isinstance(cb, RNNRegularizer))
    learn.model.train()
    learn.training = True
    x, _ = lm_dls.one_batch()
    learn.model(x)
    raw, dropped = learn.model.head.outputs
    learn.loss = torch.tensor(1.0)
    reg.after_loss()
    expected = 1.0 + 2.0 * dropped.pow(2).mean() + 1.0 * (raw[:, 1:] - raw[:, :-1]).pow(2).mean()
    assert learn.loss.item() == pytest.approx(expected.item(), rel=1e-5)
    learn.training = False


def test_lm_trains_resets_and_generates(lm_dls: TextDataLoaders, tmp_path: Path) -> None:
    torch.manual_seed(0)
    learn = language_model_learner(lm_dls, config=TINY, weights=None, quiet=True, path=tmp_path)
    assert len(learn.param_lists) == 3 and learn.moms == (0.8, 0.7, 0.8)
    before = learn.validate()[0]
    learn.fit_one_cycle(2, 3e-2)
    after = learn.recorder.valid_values
    assert after[0] < before
    net = learn.model.body.net
    learn.model.eval()
    net.reset()
    assert lm_dls.valid is not None
    with torch.no_grad():
        losses = [(torch.nn.functional.cross_entropy(learn.model(x).flatten(0, 1), y.flatten(), reduction="sum"), y.numel())
                  for x, y in lm_dls.valid]
    perplexity = torch.exp(torch.stack([l for l, _ in losses]).sum() / sum(n for _, n in losses)).item()
    assert after[2] == pytest.approx(perplexity, rel=1e-4)  # exp of the per-token loss over the whole set
    net.reset()
    assert isinstance(net, AWD_LSTM) and net.hidden == []  # ModelResetter after fit
    text = learn.predict("the cat", n_words=12, decoder=list)
    words = text.split(" ")
    assert words[:2] == ["the", "cat"] and 2 < len(words) <= 14 and "xxunk" not in words
    learn.save("lm")
    saved = net.encoder.weight.detach().clone()
    with torch.no_grad():
        net.encoder.weight.zero_()
    learn.load("lm")
    assert torch.equal(net.encoder.weight, saved)  # the tied embedding comes back (and with it the decoder)


def test_encoder_goes_from_lm_to_classifier_with_reindexing(lm_dls: TextDataLoaders, tmp_path: Path,
                                                            graftzoo_home: Path) -> None:
    lm = language_model_learner(lm_dls, config=TINY, weights=None, quiet=True, path=tmp_path)
    file = lm.save_encoder("enc")
    dls = TextDataLoaders.from_df(_df(), text_col="text", label_col="label", bs=8, seq_len=10, min_freq=1, seed=1)
    assert dls.text_vocab != lm_dls.text_vocab  # built from another split: other order
    clas = text_classifier_learner(dls, config=TINY, weights=str(file), quiet=True, path=tmp_path)
    lm_emb, clas_emb = lm.model.body.net.encoder.weight, clas.model.body.net.encoder.weight
    for tok in ("cat", "mat", "xxbos"):
        assert torch.equal(clas_emb[dls.text_vocab.index(tok)], lm_emb[lm_dls.text_vocab.index(tok)])
    assert [p.requires_grad for g in clas.param_lists for p in g][:1] == [False]  # pretrained: frozen
    assert all(p.requires_grad for p in clas.param_lists[-1])
    fresh = text_classifier_learner(dls, config=TINY, weights=None, quiet=True, path=tmp_path)
    assert all(p.requires_grad for g in fresh.param_lists for p in g)  # random body: trainable
    fresh.load_encoder("enc")
    assert torch.equal(fresh.model.body.net.encoder.weight, clas_emb)
    assert not any(p.requires_grad for p in fresh.param_lists[0])  # loaded encoder: frozen, as fastai
    assert all(p.requires_grad for p in fresh.param_lists[-1])
    label, index, probs = fresh.predict("the cat sat")
    assert dls.classes is not None and label in dls.classes and probs.shape == (2,)
    with pytest.raises(ConfigError, match="language-model data"):
        text_classifier_learner(lm_dls, config=TINY, weights=None)
    with pytest.raises(ConfigError, match="is_lm=True"):
        language_model_learner(dls, config=TINY, weights=None)
