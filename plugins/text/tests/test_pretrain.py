"""`python -m graftzoo_text.pretrain`: a language model pretrained on a corpus, pushed to the local hub, is
the body of a classifier through `weights="head://ns/name"`; fortune files are read as fastai would."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch

from graftzoo.artifacts.load import load_head
from graftzoo.errors import ConfigError
from graftzoo_text.data import TextDataLoaders
from graftzoo_text.learner import text_classifier_learner
from graftzoo_text.pretrain import corpus_texts, fortunes, main, pretrained_vocab

WORDS = ["good", "bad", "movie", "great", "awful", "plot", "actor", "the", "a", "was", "and", "very"]


def _texts(n: int) -> list[str]:
    return [" ".join(WORDS[(i * 5 + j * 3) % len(WORDS)] for j in range(6 + i % 4)) for i in range(n)]


def test_pushed_language_model_is_a_classifier_body(graftzoo_home: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(_texts(120)) + "\n")
    argv = ["--corpus", str(corpus), "--out", str(tmp_path / "lm"), "--push", "local/awd-lstm-tiny", "--epochs", "1",
            "--emb-sz", "12", "--n-hid", "20", "--n-layers", "2", "--bs", "4", "--seq-len", "8", "--min-freq", "1"]
    assert main(argv) == 0
    assert "pushed local://local/awd-lstm-tiny@" in capsys.readouterr().out

    vocab = pretrained_vocab("local/awd-lstm-tiny")
    assert "movie" in vocab and vocab[:2] == ["xxunk", "xxpad"]
    df = pd.DataFrame({"text": _texts(40), "label": ["pos", "neg"] * 20})
    dls = TextDataLoaders.from_df(df, text_col="text", label_col="label", text_vocab=vocab, bs=8, seq_len=8, seed=0)
    learn = text_classifier_learner(dls, weights="head://local/awd-lstm-tiny", seq_len=8, quiet=True, path=tmp_path)
    lm = load_head("local/awd-lstm-tiny")
    for (name, a), b in zip(lm.body.state_dict().items(), learn.model.body.state_dict().values()):
        assert torch.equal(a, b), name
    assert not learn.model.body.net.encoder.weight.requires_grad  # frozen but for the head
    learn.fit_one_cycle(1, 1e-2)
    assert learn.recorder.valid_values[1] is not None


def test_fortune_files_split_on_percent_lines(tmp_path: Path) -> None:
    (tmp_path / "wisdom").write_text("Look before you leap.\n%\nA penny saved\nis a penny earned.\n%\n")
    (tmp_path / "wisdom.dat").write_bytes(b"\x00\x02binary index")
    (tmp_path / "wisdom.u8").symlink_to(tmp_path / "wisdom")
    assert fortunes(tmp_path) == ["Look before you leap.", "A penny saved\nis a penny earned."]
    with pytest.raises(ConfigError, match="fortunes-min"):
        fortunes(tmp_path / "missing")
    with pytest.raises(ConfigError, match="neither 'tweets', 'fortunes' nor a text file"):
        corpus_texts(str(tmp_path / "nothing.txt"))
