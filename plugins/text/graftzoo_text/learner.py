"""`language_model_learner` and `text_classifier_learner`: AWD-LSTM bodies with the `text/lm` and
`text/classify` heads in Learners with fastai's text callbacks, encoder saving and text generation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from graftzoo.errors import ConfigError
from graftzoo.grafting import GraftedModel, weights_ref
from graftzoo.learner import Callback, Learner
from graftzoo.spec import ArchSpec
from graftzoo.task import ClassificationTask
from graftzoo_text.awd_lstm import AWD_LSTM, AWD_LSTM_CLAS_CONFIG, AWD_LSTM_LM_CONFIG
from graftzoo_text.body import awd_lstm_body
from graftzoo_text.callbacks import ModelResetter, RNNRegularizer, reset_hidden
from graftzoo_text.classify_head import classify_head
from graftzoo_text.encoder_io import load_encoder, save_encoder
from graftzoo_text.lm_head import LMHead, lm_head
from graftzoo_text.rules import BOS, PAD, UNK, decode_spec_tokens
from graftzoo_text.tasks import LanguageModelTask


class TextLearner(Learner):
    """A Learner with ModelResetter and RNNRegularizer(alpha, beta), fastai's text momentums, and
    `save_encoder` / `load_encoder`."""

    def __init__(self, dls: Any, model: GraftedModel, alpha: float = 2.0, beta: float = 1.0,
                 moms: Sequence[float] = (0.8, 0.7, 0.8), cbs: Sequence[Callback] | None = None, **kwargs: Any) -> None:
        super().__init__(dls, model, moms=moms, cbs=[ModelResetter(), RNNRegularizer(alpha, beta), *(cbs or [])], **kwargs)

    @property
    def encoder(self) -> AWD_LSTM:
        net = self.model.body.net
        assert isinstance(net, AWD_LSTM)
        return net

    def save_encoder(self, name: str | Path) -> Path:
        """Write the encoder (embedding stored once) with its vocabulary to `path/model_dir/name.safetensors`."""
        return save_encoder(self.encoder, self._file(name), self.dls.text_vocab)

    def load_encoder(self, name: str | Path) -> TextLearner:
        """Load an encoder saved by `save_encoder`, re-indexing its embedding for this vocabulary if needed."""
        file = Path(str(name).removeprefix("file://"))
        load_encoder(self.encoder, file if file.suffix == ".safetensors" and file.is_file() else self._file(name),
                     self.dls.text_vocab)
        return self


class LMLearner(TextLearner):
    """A language-model Learner; `predict(text, n_words)` writes the continuation of `text`."""

    def save_encoder(self, name: str | Path) -> Path:
        """The encoder, plus the decoder bias so the file can start another language model."""
        head = self.model.head
        bias = head.bias if isinstance(head, LMHead) else None
        return save_encoder(self.encoder, self._file(name), self.dls.text_vocab, bias)

    def predict(self, text: str, n_words: int = 1, no_unk: bool = True, temperature: float = 1.0,  # type: ignore[override]
                min_p: float | None = None, decoder: Callable[[Sequence[str]], list[str]] = decode_spec_tokens) -> str:
        """`text` followed by `n_words` sampled tokens (no `xxunk` with `no_unk`; `temperature` < 1 is greedier)."""
        vocab = self.dls.text_vocab
        ids = self.dls.preprocessor.encode([text])[0].tolist()
        model = self.model
        model.eval()
        reset_hidden(model)
        try:
            with torch.no_grad():
                logits = model(torch.tensor([ids], device=self.device))[0, -1]
                for _ in range(n_words):
                    probs = logits.float().softmax(-1)
                    if no_unk:
                        probs[vocab.index(UNK)] = 0.0
                    if min_p is not None and bool((probs >= min_p).any()):
                        probs[probs < min_p] = 0.0
                    if temperature != 1.0:
                        probs = probs.pow(1 / temperature)
                    idx = int(torch.multinomial(probs, 1))
                    ids.append(idx)
                    logits = model(torch.tensor([[idx]], device=self.device))[0, -1]
        finally:
            reset_hidden(model)
        return " ".join(decoder([vocab[i] for i in ids if vocab[i] not in (BOS, PAD)]))


def _text_arch(arch: str | ArchSpec) -> ArchSpec:
    if isinstance(arch, ArchSpec):
        return arch
    from graftzoo.registry import get_arch

    return get_arch(arch)


def _grafted(spec: ArchSpec, body: Any, head: Any, head_name: str, n_out: int, head_kwargs: dict[str, Any],
             task: Any, inputs: dict[str, Any], body_kwargs: dict[str, Any]) -> GraftedModel:
    """Body + head in core's GraftedModel, with a config naming what rebuilds it (the input spec too)."""
    config = {"arch": spec.name, "weights": body.weights, "n_in": 1, "cut": None, "head": head_name, "n_out": n_out,
              "head_kwargs": head_kwargs, "task": task.name, "inputs": inputs, "body_kwargs": body_kwargs}
    return GraftedModel(body, head, task=task, config=config)


def language_model_learner(dls: Any, arch: str | ArchSpec = "text/awd_lstm", config: dict[str, Any] | None = None,
                           drop_mult: float = 1.0, weights: str | None = "default", alpha: float = 2.0,
                           beta: float = 1.0, **learner_kwargs: Any) -> LMLearner:
    """fastai's `language_model_learner`: an AWD-LSTM language model on the vocabulary of `dls`.

    `weights` is an encoder file (from `save_encoder`, or `"default"` for the arch's default, None for
    random); its embedding is re-indexed for this vocabulary and the model starts frozen but for the
    embedding and decoder.
    """
    if not getattr(dls, "is_lm", False):
        raise ConfigError("language_model_learner needs language-model data: TextDataLoaders.from_df(..., is_lm=True)")
    spec = _text_arch(arch)
    ref = weights_ref(spec, weights)
    cfg = {**AWD_LSTM_LM_CONFIG, **(config or {})}
    inputs = dls.preprocessor.input_spec()
    body_kwargs: dict[str, Any] = {"config": {k: v for k, v in cfg.items() if k in AWD_LSTM_LM_CONFIG}, "drop_mult": drop_mult}
    body = awd_lstm_body(spec, weights=ref, inputs=inputs, **body_kwargs)
    n_out = inputs["vocab_size"]
    head_kwargs = {"output_p": cfg["output_p"] * drop_mult, "tie_weights": cfg["tie_weights"], "out_bias": cfg["out_bias"]}
    head = lm_head(body, n_out, **head_kwargs)
    model = _grafted(spec, body, head, "text/lm", n_out, head_kwargs, LanguageModelTask(), inputs, body_kwargs)
    if ref is not None:
        bias = load_encoder(body.net, ref, dls.text_vocab)  # type: ignore[arg-type]
        if bias is not None and head.bias is not None:
            head.bias.data.copy_(bias)
    learn = LMLearner(dls, model, alpha=alpha, beta=beta, **learner_kwargs)
    if ref is not None:
        learn.freeze()
    return learn


def text_classifier_learner(dls: Any, arch: str | ArchSpec = "text/awd_lstm", seq_len: int = 72,
                            config: dict[str, Any] | None = None, drop_mult: float = 0.5, max_len: int | None = 72 * 20,
                            lin_ftrs: Sequence[int] | None = None, ps: Sequence[float] | None = None,
                            y_range: Sequence[float] | None = None, weights: str | None = "default",
                            n_out: int | None = None, alpha: float = 2.0, beta: float = 1.0,
                            **learner_kwargs: Any) -> TextLearner:
    """fastai's `text_classifier_learner`: an AWD-LSTM read BPT3C-style in `seq_len` chunks (the last
    `max_len` tokens pooled), then LinBnDrop layers `lin_ftrs` with dropouts `ps`.

    `weights` is an encoder file (a fine-tuned language model's `save_encoder`), loaded and frozen; or
    load one later with `learn.load_encoder(name)`.
    """
    if getattr(dls, "is_lm", False):
        raise ConfigError("text_classifier_learner needs labelled data, not language-model data (is_lm=False)")
    n_out = n_out or getattr(dls, "c", None)
    if not n_out:
        raise ConfigError("n_out is not given and the data loaders have no `c` (number of classes): pass n_out=")
    spec = _text_arch(arch)
    ref = weights_ref(spec, weights)
    cfg = {**AWD_LSTM_CLAS_CONFIG, **(config or {})}
    inputs = dls.preprocessor.input_spec()
    body_kwargs: dict[str, Any] = {"config": {k: v for k, v in cfg.items() if k in AWD_LSTM_LM_CONFIG}, "drop_mult": drop_mult}
    body = awd_lstm_body(spec, weights=ref, inputs=inputs, **body_kwargs)
    head_kwargs = {
        "bptt": seq_len, "max_len": max_len, "lin_ftrs": list(lin_ftrs) if lin_ftrs is not None else None,
        "ps": list(ps) if ps is not None else None, "output_p": cfg["output_p"] * drop_mult,
        "y_range": list(y_range) if y_range is not None else None,
    }
    head = classify_head(body, n_out, **head_kwargs)
    model = _grafted(spec, body, head, "text/classify", n_out, head_kwargs, ClassificationTask(), inputs, body_kwargs)
    model.vocab = list(getattr(dls, "classes", None) or []) or None
    if ref is not None:
        load_encoder(body.net, ref, dls.text_vocab)  # type: ignore[arg-type]
    learn = TextLearner(dls, model, alpha=alpha, beta=beta, **learner_kwargs)
    if ref is not None:
        learn.freeze()
    return learn
