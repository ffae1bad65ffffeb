"""`fastai:wt103-fwd`: fastai's model-zoo archive converted (weights with weights_only, the vocabulary read
without unpickling), served from the cache offline, and a download that is not fastai's file refused."""

from __future__ import annotations

import functools
import io
import os
import pickle
import tarfile
import threading
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest
import torch

from graftzoo.errors import WeightsError
from graftzoo.grafting import GraftedModel
from graftzoo.offline import WeightsOfflineError
from graftzoo_text.data import TextDataLoaders
from graftzoo_text.fastai_zoo import ARCHIVES, FastaiModelZoo, convert_zoo_archive
from graftzoo_text.learner import language_model_learner

TINY = {"emb_sz": 12, "n_hid": 20, "n_layers": 3}
VOCAB = [f"w{i}" for i in range(40)]


def _fastai_state(model: GraftedModel) -> dict[str, torch.Tensor]:
    """The tensor names fastai 2.8's `get_language_model` saves (`lstm_fwd.pth`), for the same weights."""
    net = model.body.net
    state = {"0.encoder.weight": net.encoder.weight, "0.encoder_dp.emb.weight": net.encoder.weight}
    for i, rnn in enumerate(net.rnns):
        state[f"0.rnns.{i}.weight_hh_l0_raw"] = rnn.module.weight_hh_l0
        for name in ("weight_ih_l0", "bias_ih_l0", "bias_hh_l0"):
            state[f"0.rnns.{i}.module.{name}"] = getattr(rnn.module, name)
    state["1.decoder.weight"] = net.encoder.weight
    state["1.decoder.bias"] = model.head.bias
    return {k: v.detach().clone() for k, v in state.items()}


def _zoo_tgz(path: Path, state: dict[str, torch.Tensor], itos: bytes) -> Path:
    """A .tgz laid out as fastai's wt103-fwd.tgz: wt103-fwd/lstm_fwd.pth and wt103-fwd/itos_wt103.pkl."""
    weights = io.BytesIO()
    torch.save(state, weights)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in (("lstm_fwd.pth", weights.getvalue()), ("itos_wt103.pkl", itos)):
            info = tarfile.TarInfo(f"wt103-fwd/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def source(tiny_lm: Callable[..., GraftedModel]) -> GraftedModel:
    torch.manual_seed(0)
    model = tiny_lm()
    torch.nn.init.normal_(model.head.bias)
    return model


@pytest.fixture
def lm_data() -> TextDataLoaders:
    texts = [" ".join(f"w{(i * 7 + j) % 40}" for j in range(8)) for i in range(60)]
    return TextDataLoaders.from_df(pd.DataFrame({"text": texts}), is_lm=True, bs=4, seq_len=8, min_freq=1, cache=False)


def _assert_same_weights(learn_model: GraftedModel, source: GraftedModel, vocab: list[str]) -> None:
    net, src = learn_model.body.net, source.body.net
    row = vocab.index("w5")
    assert torch.equal(net.encoder.weight[row], src.encoder.weight[5])
    assert learn_model.head.bias[row] == source.head.bias[5]
    assert torch.equal(net.rnns[2].module.weight_hh_l0, src.rnns[2].module.weight_hh_l0)


def test_archive_converts_to_an_encoder_file(tmp_path: Path, source: GraftedModel, lm_data: TextDataLoaders) -> None:
    tgz = _zoo_tgz(tmp_path / "wt103-fwd.tgz", _fastai_state(source), pickle.dumps(VOCAB, protocol=2))
    out = convert_zoo_archive(tgz, tmp_path / "wt103.safetensors")
    learn = language_model_learner(lm_data, config=TINY, weights=str(out), quiet=True)
    _assert_same_weights(learn.model, source, lm_data.text_vocab)


class _RunsCode:
    def __reduce__(self) -> tuple[Callable[..., object], tuple[str]]:
        return (os.mkdir, (str(Path(os.environ["GRAFTZOO_HOME"]) / "code-ran"),))


def test_a_vocabulary_that_names_code_is_refused_unrun(tmp_path: Path, source: GraftedModel, graftzoo_home: Path) -> None:
    graftzoo_home.mkdir(parents=True)
    tgz = _zoo_tgz(tmp_path / "wt103-fwd.tgz", _fastai_state(source), pickle.dumps([*VOCAB[:-1], _RunsCode()]))
    with pytest.raises(WeightsError, match="opcode .*GLOBAL"):
        convert_zoo_archive(tgz, tmp_path / "wt103.safetensors")
    assert not (graftzoo_home / "code-ran").exists() and not (tmp_path / "wt103.safetensors").exists()


def test_a_filled_cache_serves_the_reference_offline(graftzoo_home: Path, source: GraftedModel, lm_data: TextDataLoaders,
                                                     monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    tgz = _zoo_tgz(tmp_path / "wt103-fwd.tgz", _fastai_state(source), pickle.dumps(VOCAB, protocol=4))
    convert_zoo_archive(tgz, graftzoo_home / "fastai-modelzoo" / "wt103-fwd.safetensors")
    monkeypatch.setenv("GRAFTZOO_OFFLINE", "1")
    learn = language_model_learner(lm_data, config=TINY, weights="fastai:wt103-fwd", quiet=True)
    _assert_same_weights(learn.model, source, lm_data.text_vocab)


def test_offline_with_an_empty_cache_says_where_to_put_the_archive(graftzoo_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFTZOO_OFFLINE", "1")
    with pytest.raises(WeightsOfflineError, match="fastai-modelzoo/wt103-fwd.tgz"):
        FastaiModelZoo().resolve("fastai:wt103-fwd")
    with pytest.raises(WeightsError, match="fastai:wt103-fwd"):
        FastaiModelZoo().resolve("fastai:wt103-bwd")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A loopback HTTP server: (base URL ending in '/', the folder it serves)."""
    served = tmp_path / "served"
    served.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", served
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_download_that_is_not_fastais_file_is_deleted(server: tuple[str, Path], source: GraftedModel, tmp_path: Path) -> None:
    base, served = server
    _zoo_tgz(served / ARCHIVES["wt103-fwd"].filename, _fastai_state(source), pickle.dumps(VOCAB))
    cache = tmp_path / "cache"
    zoo = FastaiModelZoo(cache_dir=cache, base_url=base, timeout=5)
    with pytest.raises(WeightsError, match="not fastai's file"):
        zoo.resolve("fastai:wt103-fwd")
    assert list(cache.iterdir()) == []
