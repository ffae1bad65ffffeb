"""The `text/awd_lstm` body: an AWD_LSTM built for a vocabulary (the `text/tokens` input spec).

Its build steps (manifest `steps`): `build_network` makes the AWD_LSTM for the vocabulary of the
inputs with the arch's settings (`body_kwargs`: emb_sz, n_hid, n_layers, bidir, the dropouts and
drop_mult); `wrap_body` makes it the body (nothing is cut off).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn

from graftzoo.body import Body
from graftzoo.errors import ConfigError
from graftzoo.inputs import InputSpec
from graftzoo.spec import ArchSpec
from graftzoo_text.awd_lstm import AWD_LSTM, AWD_LSTM_LM_CONFIG, ENCODER_KEYS, awd_lstm_split_groups

ARCH = "text/awd_lstm"
KIND = "text/tokens"
MAX_VOCAB = 1_000_000
MAX_PARAMETERS = 1 << 28  # ~268M (1 GB of float32): far above ULMFiT's ~45M, a bound for forged configs
INPUT_KEYS = {"vocab_size", "pad_idx", "fingerprint"}


def encoder_config(config: Mapping[str, Any] | None = None, drop_mult: float = 1.0) -> dict[str, Any]:
    """The AWD_LSTM kwargs of `config` (default: fastai's LM config), every `*_p` times `drop_mult`."""
    base = dict(AWD_LSTM_LM_CONFIG if config is None else config)
    unknown = sorted(set(base) - set(AWD_LSTM_LM_CONFIG))
    if unknown:
        raise ConfigError(f"unknown AWD-LSTM config key(s) {unknown}; known: {sorted(AWD_LSTM_LM_CONFIG)}")
    merged = {**AWD_LSTM_LM_CONFIG, **base}
    return {k: (merged[k] * drop_mult if k.endswith("_p") else merged[k]) for k in ENCODER_KEYS}


def tokens_inputs(inputs: Any) -> tuple[int, int]:
    """(vocab_size, pad_idx) of a bounded `text/tokens` input spec (it may come from an untrusted graftzoo.json)."""
    if not isinstance(inputs, InputSpec) or inputs.kind != KIND:
        raise ConfigError(
            f"{ARCH} is built for a vocabulary: pass inputs={{'kind': {KIND!r}, 'vocab_size': N, 'pad_idx': 1}} "
            f"(dls.preprocessor.input_spec()); got {inputs!r}"[:400]
        )
    params = inputs.params
    unknown = sorted(set(params) - INPUT_KEYS)
    if unknown or "vocab_size" not in params:
        raise ConfigError(f"the {KIND} inputs take vocab_size, pad_idx and fingerprint; got keys {sorted(params)}"[:300])
    vocab_size, pad_idx = params["vocab_size"], params.get("pad_idx", 1)
    if not _is_int(vocab_size) or not 2 <= vocab_size <= MAX_VOCAB:
        raise ConfigError(f"the {KIND} inputs: vocab_size must be an int from 2 to {MAX_VOCAB:,}, got {vocab_size!r}"[:200])
    if not _is_int(pad_idx) or not 0 <= pad_idx < vocab_size:
        raise ConfigError(f"the {KIND} inputs: pad_idx must be an int in [0, {vocab_size}), got {pad_idx!r}"[:200])
    fingerprint = params.get("fingerprint")
    if fingerprint is not None and (not isinstance(fingerprint, str) or len(fingerprint) > 100):
        raise ConfigError(f"the {KIND} inputs: fingerprint must be the preprocessor's 'sha256:...' text")
    return vocab_size, pad_idx


def build_network(spec: ArchSpec, inputs: InputSpec, weights: str | None = None, *, drop_mult: float = 1.0,
                  **settings: Any) -> AWD_LSTM:
    """The `factory` build step: an AWD_LSTM for the vocabulary of `inputs`, sized within bounds."""
    vocab_size, pad_idx = tokens_inputs(inputs)
    kwargs = encoder_config(settings, drop_mult)
    n_params = _parameter_count(vocab_size, kwargs)
    if n_params > MAX_PARAMETERS:
        raise ConfigError(f"{ARCH} with vocabulary {vocab_size:,} and these sizes would have {n_params:,} parameters, "
                          f"more than {MAX_PARAMETERS:,}: use a smaller emb_sz, n_hid or n_layers")
    return AWD_LSTM(vocab_size, pad_token=pad_idx, **kwargs)


def wrap_body(model: nn.Module, spec: ArchSpec, inputs: InputSpec, weights: str | None, cut: Any) -> Body:
    """The `body` build step: the whole AWD_LSTM is the body (the head reads its outputs)."""
    if cut is not None:
        raise ConfigError(f"{ARCH} is not cut (it has no classifier to remove); leave cut=None")
    if not isinstance(model, AWD_LSTM):
        raise ConfigError(f"{ARCH}'s body step takes an AWD_LSTM, got {type(model).__name__}")
    return Body(model, spec=spec, weights=weights, inputs=inputs, num_features=model.emb_sz, feature_info=[],
                split=awd_lstm_split_groups)  # type: ignore[arg-type]


def awd_lstm_body(inputs: InputSpec | Mapping[str, Any] | None = None, weights: str | None = None,
                  **body_kwargs: Any) -> Body:
    """The `text/awd_lstm` body for `inputs` (`TextPreprocessor.input_spec()`) through `graftzoo.create_body`;
    `body_kwargs` are the arch's settings (emb_sz, n_hid, n_layers, bidir, *_p dropouts, drop_mult)."""
    from graftzoo.building import create_body

    if inputs is None:
        raise ConfigError(f"{ARCH} is built for a vocabulary: pass inputs=dls.preprocessor.input_spec() (a {KIND!r} input spec)")
    return create_body(ARCH, weights=weights, inputs=InputSpec.from_json(inputs), body_kwargs=body_kwargs)


def _parameter_count(vocab_size: int, kwargs: Mapping[str, Any]) -> int:
    """About how many parameters the AWD_LSTM will have (counted before anything is allocated)."""
    emb, hid, layers, n_dir = int(kwargs["emb_sz"]), int(kwargs["n_hid"]), int(kwargs["n_layers"]), 2 if kwargs["bidir"] else 1
    total = vocab_size * emb
    for layer in range(layers):
        n_in = emb if layer == 0 else hid
        n_out = (hid if layer != layers - 1 else emb) // n_dir
        total += n_dir * 4 * n_out * (n_in + n_out + 2)
    return total


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
