"""End to end on real tweets: a tiny language model improves, and a classifier fine-tuned from its
encoder beats the majority class and the same schedule from a random encoder."""

from pathlib import Path

import pytest
import torch

from graftzoo_text.data import TextDataLoaders
from graftzoo_text.datasets import DatasetUnavailableError, tweets
from graftzoo_text.learner import language_model_learner, text_classifier_learner

TINY = {"emb_sz": 48, "n_hid": 96, "n_layers": 2}


@pytest.mark.slow
def test_tiny_ulmfit_learns_tweet_sentiment(graftzoo_home: Path, tmp_path: Path) -> None:
    try:
        corpus = tweets().sample(8000, random_state=0)  # the language model reads every text (ULMFiT)
    except DatasetUnavailableError as exc:
        pytest.skip(str(exc))
    torch.manual_seed(0)
    torch.set_num_threads(1)
    df = corpus.iloc[:2400]  # the classifier's labelled share
    dls_lm = TextDataLoaders.from_df(corpus, text_col="text", is_lm=True, bs=32, seq_len=40, seed=0, valid_pct=0.1)
    assert len(dls_lm.text_vocab) <= 6000
    lm = language_model_learner(dls_lm, config=TINY, weights=None, quiet=True, path=tmp_path, drop_mult=0.3)
    start = lm.validate()
    lm.fit_one_cycle(1, 2e-2)
    assert lm.recorder.valid_values[0] < start[0] - 0.5
    lm.save_encoder("tweets_enc")

    dls = TextDataLoaders.from_df(df, text_col="text", label_col="sentiment", text_vocab=dls_lm.text_vocab,
                                  bs=32, seq_len=40, seed=0)
    def ulmfit_classifier(encoder: str | None) -> float:
        """The same schedule from a pretrained or a random encoder: the head, then everything."""
        torch.manual_seed(1)
        clas = text_classifier_learner(dls, config=TINY, weights=None, quiet=True, path=tmp_path)
        if encoder is not None:
            clas.load_encoder(encoder)
        clas.freeze()
        clas.fit_one_cycle(1, 2e-2)
        clas.unfreeze()
        clas.fit_one_cycle(1, slice(2e-3 / 2.6**4, 2e-3))
        return float(clas.recorder.valid_values[1])

    pretrained, random_encoder = ulmfit_classifier("tweets_enc"), ulmfit_classifier(None)
    valid_targets = torch.cat([y for _, y in dls.valid])
    majority = valid_targets.bincount().max().item() / len(valid_targets)
    assert pretrained > majority + 0.05, (pretrained, majority)
    assert pretrained > random_encoder + 0.03, (pretrained, random_encoder)  # the pretrained encoder helps
