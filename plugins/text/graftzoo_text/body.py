"""Text bodies: an AWD_LSTM built for a vocabulary (the `text/tokens` input spec)."""

from __future__ import annotations

from typing import Any

from graftzoo.body import Body
from graftzoo.errors import ConfigError
from graftzoo.spec import ArchSpec
from graftzoo_text.awd_lstm import AWD_LSTM, AWD_LSTM_LM_CONFIG, ENCODER_KEYS, awd_lstm_split_groups


def encoder_config(config: dict[str, Any] | None = None, drop_mult: float = 1.0) -> dict[str, Any]:
    """The AWD_LSTM kwargs of `config` (default: fastai's LM config), every `*_p` times `drop_mult`."""
    base = dict(AWD_LSTM_LM_CONFIG if config is None else config)
    unknown = sorted(set(base) - set(AWD_LSTM_LM_CONFIG))
    if unknown:
        raise ConfigError(f"unknown AWD-LSTM config key(s) {unknown}; known: {sorted(AWD_LSTM_LM_CONFIG)}")
    merged = {**AWD_LSTM_LM_CONFIG, **base}
    return {k: (merged[k] * drop_mult if k.endswith("_p") else merged[k]) for k in ENCODER_KEYS}


def check_inputs(inputs: dict[str, Any] | None) -> tuple[int, int]:
    """(vocab_size, pad_idx) of a `text/tokens` input spec, or an error saying what is missing."""
    if not inputs or inputs.get("kind") != "text/tokens" or not isinstance(inputs.get("vocab_size"), int):
        raise ConfigError(
            "a text body is built for a vocabulary: pass inputs={'kind': 'text/tokens', 'vocab_size': N, "
            "'pad_idx': 1} (TextPreprocessor.input_spec() or dls.preprocessor.input_spec())"
        )
    return inputs["vocab_size"], int(inputs.get("pad_idx", 1))


def awd_lstm_body(spec: ArchSpec, weights: str | None = None, n_in: int = 1, cut: Any = None, *,
                  inputs: dict[str, Any] | None = None, config: dict[str, Any] | None = None,
                  drop_mult: float = 1.0) -> Body:
    """An AWD_LSTM body for the vocabulary of `inputs`; `weights` is recorded, loaded by the learner."""
    vocab_size, pad_idx = check_inputs(inputs)
    kwargs = encoder_config(config, drop_mult)
    net = AWD_LSTM(vocab_size, pad_token=pad_idx, **kwargs)
    return Body(net, spec=spec, weights=weights, n_in=1, num_features=kwargs["emb_sz"], feature_info=[],
                split=awd_lstm_split_groups)  # type: ignore[arg-type]
