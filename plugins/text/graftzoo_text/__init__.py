"""graftzoo-text: fastai's tokenizer, AWD-LSTM (ULMFiT) language model and classifier, text data.

Names load on first use, so `import graftzoo_text` stays light.
"""

from __future__ import annotations

from graftzoo.lazy import lazy_exports

_LAZY = {
    "TextDataLoaders": "graftzoo_text.data",
    "LMLoader": "graftzoo_text.data",
    "ClassifierLoader": "graftzoo_text.data",
    "Tokenizer": "graftzoo_text.tokenizer",
    "Numericalize": "graftzoo_text.vocab",
    "make_vocab": "graftzoo_text.vocab",
    "TextPreprocessor": "graftzoo_text.preprocessor",
    "WordPiecePreprocessor": "graftzoo_text.wordpiece",
    "AWD_LSTM": "graftzoo_text.awd_lstm",
    "AWD_LSTM_LM_CONFIG": "graftzoo_text.awd_lstm",
    "AWD_LSTM_CLAS_CONFIG": "graftzoo_text.awd_lstm",
    "awd_lstm_body": "graftzoo_text.body",
    "ModelResetter": "graftzoo_text.callbacks",
    "RNNRegularizer": "graftzoo_text.callbacks",
    "LanguageModelTask": "graftzoo_text.tasks",
    "language_model_learner": "graftzoo_text.learner",
    "text_classifier_learner": "graftzoo_text.learner",
    "TextLearner": "graftzoo_text.learner",
    "LMLearner": "graftzoo_text.learner",
    "match_embeds": "graftzoo_text.encoder_io",
    "decode_spec_tokens": "graftzoo_text.rules",
    "convert_fastai_lm": "graftzoo_text.fastai_weights",
    "tweets": "graftzoo_text.datasets",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_exports('graftzoo_text', globals(), _LAZY)
