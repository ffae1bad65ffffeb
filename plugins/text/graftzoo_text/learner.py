"""`language_model_learner` and `text_classifier_learner`: AWD-LSTM bodies with the `text/lm` and
`text/classify` heads in Learners with fastai's text callbacks, encoder saving and text generation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from graftzoo.errors import ConfigError
from graftzoo.building import arch_spec, weights_ref
from graftzoo.grafting import GraftedModel, graft
from graftzoo.learner import Callback, Learner
from graftzoo.spec import ArchSpec
from graftzoo.weights import weight_source
from graftzoo_text.awd_lstm import AWD_LSTM, AWD_LSTM_CLAS_CONFIG, AWD_LSTM_LM_CONFIG, ENCODER_KEYS
from graftzoo_text.callbacks import ModelResetter, RNNRegularizer, reset_hidden
from graftzoo_text.encoder_io import load_encoder, save_encoder
from graftzoo_text.lm_head import LMHead
from graftzoo_text.rules import BOS, PAD, UNK, decode_spec_tokens


class TextLearner(Learner):
    """A Learner with ModelResetter and RNNRegularizer(alpha, beta), fastai's text momentums, and
    `save_encoder` / `load_encoder`."""

    def __init__(self, dls: Any, model: GraftedModel, alpha: float = 2.0, beta: float = 1.0,
                 moms: Sequence[float] = (0.8, 0.7, 0.8), cbs: Sequence[Callback] | None = None, **kwargs: Any) -> None:
        super().__init__(dls, model, moms=moms, cbs=[ModelResetter(), RNNRegularizer(alpha, beta), *(cbs or [])], **kwargs)

    @property
    def encoder(self) -> AWD_LSTM:
        net = getattr(getattr(self.model, "body", None), "net", None)
        if not isinstance(net, AWD_LSTM):
            raise ConfigError(f"this Learner's model has no AWD-LSTM body (got {type(net).__name__}); encoders are AWD-LSTM's")
        return net

    def save_encoder(self, name: str | Path) -> Path:
        """Write the encoder (embedding stored once) with its vocabulary to `path/model_dir/name.safetensors`."""
        return save_encoder(self.encoder, self._file(name), self.dls.text_vocab)

    def load_encoder(self, name: str | Path) -> TextLearner:
        """Load an encoder saved by `save_encoder`, re-indexing its embedding for this vocabulary if needed,
        then freeze the body as fastai does (ULMFiT trains the head first)."""
        file = Path(str(name).removeprefix("file://"))
        load_encoder(self.encoder, file if file.suffix == ".safetensors" and file.is_file() else self._file(name),
                     self.dls.text_vocab)
        self.freeze()
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
        ids = self.dls.preprocessor.numericalize([text])[0].tolist()
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


def _graft_text(dls: Any, arch: str | ArchSpec, head: str, n_out: int, weights: str | None,
                body_kwargs: dict[str, Any], head_kwargs: dict[str, Any]) -> tuple[GraftedModel, str | None]:
    """The model through `graftzoo.graft`, for the vocabulary of `dls.preprocessor`.

    A `head://` reference is the body of a saved head (same vocabulary; it keeps its own settings);
    any other reference is an encoder file, loaded afterwards (its embedding re-indexed for this
    vocabulary) and returned so the caller can take the decoder bias from it.
    """
    spec = arch_spec(arch)
    ref = weights_ref(spec, weights)
    from_head = ref is not None and ref.startswith("head://")
    model = graft(spec, head, n_out=n_out, inputs=dls.preprocessor.input_spec(), weights=ref if from_head else None,
                  body_kwargs={} if from_head else body_kwargs,  # a head:// body keeps (and records) its saved settings
                  head_kwargs=head_kwargs)
    return model, None if from_head or ref is None else encoder_file(ref, spec)


def encoder_file(ref: str, spec: ArchSpec) -> str:
    """The local encoder file `ref` names: a path (or `file://` URL) as it is; `scheme:name` (e.g.
    `fastai:wt103-fwd`) through the registered weight source of its scheme (downloaded, checked, cached)."""
    scheme, sep, _ = ref.partition(":")
    if not sep or scheme == "file" or len(scheme) < 2 or Path(ref).exists():
        return ref
    return str(weight_source(scheme).resolve(ref, spec))


def language_model_learner(dls: Any, arch: str | ArchSpec = "text/awd_lstm", config: dict[str, Any] | None = None,
                           drop_mult: float = 1.0, weights: str | None = "default", alpha: float = 2.0,
                           beta: float = 1.0, **learner_kwargs: Any) -> LMLearner:
    """fastai's `language_model_learner`: an AWD-LSTM language model on the vocabulary of `dls`.

    `weights` is an encoder file (from `save_encoder`; its embedding is re-indexed for this vocabulary),
    `head://REF` (the body of a saved language model with the same vocabulary), `"default"` for the
    arch's default or None for random; with weights the model starts frozen but for the last group.
    """
    if not getattr(dls, "is_lm", False):
        raise ConfigError("language_model_learner needs language-model data: TextDataLoaders.from_df(..., is_lm=True)")
    cfg = {**AWD_LSTM_LM_CONFIG, **(config or {})}
    head_kwargs = {"output_p": cfg["output_p"] * drop_mult, "tie_weights": cfg["tie_weights"], "out_bias": cfg["out_bias"]}
    model, encoder_file = _graft_text(dls, arch, "text/lm", len(dls.text_vocab), weights,
                                      _body_kwargs(cfg, drop_mult), head_kwargs)
    if encoder_file is not None:
        bias = load_encoder(model.body.net, encoder_file, dls.text_vocab)  # type: ignore[arg-type]
        head = model.head
        if bias is not None and isinstance(head, LMHead) and head.bias is not None:
            head.bias.data.copy_(bias)
    learn = LMLearner(dls, model, alpha=alpha, beta=beta, **learner_kwargs)
    if model.body.weights is not None or encoder_file is not None:
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

    `weights` is `head://REF` (a fine-tuned language model saved with `save_head`, built for the same
    vocabulary: its body, dropouts included, is this model's body) or an encoder file (a language
    model's `save_encoder`, re-indexed for another vocabulary with fastai's `match_embeds`), loaded and
    frozen; or load an encoder later with `learn.load_encoder(name)`.
    """
    if getattr(dls, "is_lm", False):
        raise ConfigError("text_classifier_learner needs labelled data, not language-model data (is_lm=False)")
    n_out = n_out or getattr(dls, "c", None)
    if not n_out:
        raise ConfigError("n_out is not given and the data loaders have no `c` (number of classes): pass n_out=")
    cfg = {**AWD_LSTM_CLAS_CONFIG, **(config or {})}
    head_kwargs = {
        "bptt": seq_len, "max_len": max_len, "lin_ftrs": list(lin_ftrs) if lin_ftrs is not None else None,
        "ps": list(ps) if ps is not None else None, "output_p": cfg["output_p"] * drop_mult,
        "y_range": list(y_range) if y_range is not None else None,
    }
    model, encoder_file = _graft_text(dls, arch, "text/classify", n_out, weights, _body_kwargs(cfg, drop_mult), head_kwargs)
    if encoder_file is not None:
        load_encoder(model.body.net, encoder_file, dls.text_vocab)  # type: ignore[arg-type]
    learn = TextLearner(dls, model, alpha=alpha, beta=beta, **learner_kwargs)
    if model.body.weights is not None or encoder_file is not None:
        learn.freeze()
    return learn


def _body_kwargs(cfg: dict[str, Any], drop_mult: float) -> dict[str, Any]:
    """The arch settings of a fastai config: its encoder keys and drop_mult."""
    unknown = sorted(set(cfg) - set(AWD_LSTM_LM_CONFIG))
    if unknown:
        raise ConfigError(f"unknown AWD-LSTM config key(s) {unknown}; known: {sorted(AWD_LSTM_LM_CONFIG)}")
    return {**{k: cfg[k] for k in ENCODER_KEYS}, "drop_mult": drop_mult}
