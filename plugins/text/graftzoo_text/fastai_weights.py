"""fastai's AWD-LSTM checkpoints (`.pth` of a language model or a classifier) as graftzoo encoder files.

fastai stores the embedding twice (`encoder.weight`, `encoder_dp.emb.weight`), the hidden-to-hidden
weights as `rnns.<i>.weight_hh_l0_raw`, and the tied decoder weight again under `1.decoder.weight`;
graftzoo keeps each tensor once. The `.pth` is read with `torch.load(weights_only=True)`; the
vocabulary comes as a list of tokens (fastai's is a serialized Python object, which graftzoo never loads).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor

from graftzoo.errors import WeightsError
from graftzoo_text.awd_lstm import AWD_LSTM
from graftzoo_text.encoder_io import save_encoder

_PREFIX = re.compile(r"^0\.(module\.)?")


def encoder_from_fastai(state: dict[str, Tensor]) -> tuple[dict[str, Tensor], Tensor | None]:
    """(graftzoo encoder tensors, decoder bias or None) from a fastai language-model or classifier state dict."""
    tensors: dict[str, Tensor] = {}
    for key, value in state.items():
        if not _PREFIX.match(key):
            continue
        name = _PREFIX.sub("", key)
        if name == "encoder_dp.emb.weight":
            continue  # a second copy of encoder.weight
        raw = re.fullmatch(r"rnns\.(\d+)\.(weight_hh_l0(?:_reverse)?)_raw", name)
        tensors[f"rnns.{raw.group(1)}.module.{raw.group(2)}" if raw else name] = value
    if "encoder.weight" not in tensors:
        raise WeightsError("not a fastai AWD-LSTM state dict: no `0.encoder.weight` (or `0.module.encoder.weight`)")
    return tensors, state.get("1.decoder.bias")


def awd_lstm_from_tensors(tensors: dict[str, Tensor], pad_token: int = 1) -> AWD_LSTM:
    """An AWD_LSTM shaped like `tensors` (vocabulary, emb_sz, n_hid, n_layers read off the shapes), loaded."""
    vocab_sz, emb_sz = tensors["encoder.weight"].shape
    n_layers = len({k.split(".")[1] for k in tensors if k.startswith("rnns.")})
    bidir = "rnns.0.module.weight_hh_l0_reverse" in tensors
    n_hid = tensors["rnns.0.module.weight_hh_l0"].shape[1] * (2 if bidir else 1) if n_layers > 1 else emb_sz
    net = AWD_LSTM(vocab_sz, emb_sz, n_hid, n_layers, pad_token=pad_token, bidir=bidir)
    try:
        net.load_state_dict(tensors)
    except RuntimeError as exc:
        raise WeightsError(f"the fastai weights do not make an AWD-LSTM: {exc}") from exc
    return net


def convert_fastai_lm(pth: str | Path, vocab: Sequence[str], out: str | Path) -> Path:
    """Write fastai's `.pth` (e.g. Wikitext-103's `lstm_fwd.pth`) with its `vocab` as a graftzoo encoder
    file, usable as `language_model_learner(dls, weights=out)` on any vocabulary."""
    return convert_fastai_state(torch.load(Path(pth), map_location="cpu", weights_only=True), vocab, out)


def convert_fastai_state(state: object, vocab: Sequence[str], out: str | Path) -> Path:
    """Write a loaded fastai state dict (or `{"model": state_dict, ...}`) with its `vocab` as an encoder file."""
    if isinstance(state, dict) and isinstance(state.get("model"), dict):
        state = state["model"]
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise WeightsError("the fastai checkpoint does not hold a state dict of tensors")
    tensors, bias = encoder_from_fastai(state)
    net = awd_lstm_from_tensors(tensors)
    if net.encoder.num_embeddings != len(vocab):
        raise WeightsError(f"the weights have {net.encoder.num_embeddings} embeddings but the vocabulary {len(vocab)} tokens")
    return save_encoder(net, out, vocab, bias)
