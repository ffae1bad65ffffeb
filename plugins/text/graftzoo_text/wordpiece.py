"""The WordPiece preprocessor of BERT bodies: texts → padded token ids, through the `tokenizers` library.

Its state is plain JSON and small: the packaged tokenizer is referenced by name and sha256; any
other tokenizer travels whole (its `tokenizer.json`, vocabulary included).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from tokenizers import Tokenizer

from graftzoo.errors import ConfigError
from graftzoo.inputs import InputSpec
from graftzoo.preprocessor import Preprocessor
from graftzoo_text.bert_weights import PACKAGED_CHECKPOINTS, TOKENIZER_FILE, packaged_folder, sha256_of

KIND = "text/wordpiece"
DEFAULT_MAX_LENGTH = 128
MAX_LENGTH = 8192
MAX_VOCAB = 1_000_000
STATE_KEYS = {"kind", "max_length", "tokenizer"}


class WordPiecePreprocessor(Preprocessor):
    """Texts → (B, L) int64 token ids: `[CLS] … [SEP]`, truncated to `max_length`, right-padded to the longest.

    The `graftzoo.Preprocessor` of input kind `text/wordpiece`: an item is one string, `encode(texts)`
    gives `(ids,)`. A packaged tokenizer is stored by name and sha256, another as its tokenizer.json.
    """

    kind = KIND

    def __init__(self, tokenizer: Tokenizer, *, max_length: int = DEFAULT_MAX_LENGTH, packaged: str | None = None) -> None:
        if not isinstance(max_length, int) or isinstance(max_length, bool) or not 2 <= max_length <= MAX_LENGTH:
            raise ConfigError(f"max_length must be an int from 2 (room for [CLS] and [SEP]) to {MAX_LENGTH}, got {str(max_length)[:40]!r}")
        if tokenizer.get_vocab_size() > MAX_VOCAB:
            raise ConfigError(f"the tokenizer has {tokenizer.get_vocab_size():,} tokens; at most {MAX_VOCAB:,}")
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.packaged = packaged  # name of the packaged checkpoint whose tokenizer this is, if it is one
        self.pad_idx = _pad_id(tokenizer)
        tokenizer.enable_truncation(max_length)
        tokenizer.enable_padding(pad_id=self.pad_idx, pad_token=tokenizer.id_to_token(self.pad_idx) or "[PAD]")

    @classmethod
    def from_folder(cls, folder: str | Path, max_length: int = DEFAULT_MAX_LENGTH) -> WordPiecePreprocessor:
        """The tokenizer of a checkpoint folder; recognised by sha256 when it is a packaged one."""
        path = Path(folder) / TOKENIZER_FILE
        digest = sha256_of(path) if path.is_file() else ""
        packaged = next((e.name for e in PACKAGED_CHECKPOINTS.values() if e.tokenizer_sha256 == digest), None)
        return cls(_read_tokenizer(path), max_length=max_length, packaged=packaged)

    @classmethod
    def from_packaged(cls, name: str = "all-minilm-l6-v2", max_length: int = DEFAULT_MAX_LENGTH) -> WordPiecePreprocessor:
        """The tokenizer of a packaged checkpoint (`text-packaged:<name>`), its sha256 checked."""
        if name not in PACKAGED_CHECKPOINTS:
            raise ConfigError(f"no packaged tokenizer named {name!r}; known: {sorted(PACKAGED_CHECKPOINTS)}")
        entry = PACKAGED_CHECKPOINTS[name]
        path = packaged_folder(entry) / TOKENIZER_FILE
        digest = sha256_of(path)
        if digest != entry.tokenizer_sha256:
            raise ConfigError(f"{path} has sha256 {digest}, not {entry.tokenizer_sha256}: reinstall it ({entry.pip_line} --force-reinstall)")
        return cls(_read_tokenizer(path), max_length=max_length, packaged=name)

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> WordPiecePreprocessor:
        """Rebuild from `state()` (as read back from JSON); every key is checked, a ConfigError names the bad one."""
        where = f"the {KIND} preprocessor state"
        if not isinstance(state, dict) or set(state) != STATE_KEYS or state["kind"] != KIND:
            got = sorted(str(k)[:40] for k in state)[:8] if isinstance(state, dict) else type(state).__name__
            raise ConfigError(f"{where} must be a JSON object with keys {sorted(STATE_KEYS)} and kind {KIND!r}; got {got}")
        tokenizer, max_length = state["tokenizer"], state["max_length"]
        if not isinstance(max_length, int) or isinstance(max_length, bool) or not 2 <= max_length <= MAX_LENGTH:
            raise ConfigError(f"{where}: max_length must be an int from 2 to {MAX_LENGTH}, got {str(max_length)[:40]!r}")
        if isinstance(tokenizer, dict) and set(tokenizer) == {"packaged", "sha256"}:
            entry = PACKAGED_CHECKPOINTS.get(tokenizer["packaged"]) if isinstance(tokenizer["packaged"], str) else None
            if entry is None or tokenizer["sha256"] != entry.tokenizer_sha256:
                raise ConfigError(
                    f"{where}: tokenizer names packaged tokenizer {str(tokenizer['packaged'])[:60]!r} with sha256 "
                    f"{str(tokenizer['sha256'])[:70]!r}, which this graftzoo-text does not serve "
                    f"(known: {sorted(PACKAGED_CHECKPOINTS)}); upgrade graftzoo-text"
                )
            return cls.from_packaged(entry.name, max_length=max_length)
        if isinstance(tokenizer, dict) and set(tokenizer) == {"json"} and isinstance(tokenizer["json"], dict):
            vocab = tokenizer["json"].get("model", {}).get("vocab") if isinstance(tokenizer["json"].get("model"), dict) else None
            if not isinstance(vocab, (dict, list)) or not 2 <= len(vocab) <= MAX_VOCAB:
                raise ConfigError(f"{where}: tokenizer.json.model.vocab must hold 2 to {MAX_VOCAB:,} tokens")
            return cls(_parse_tokenizer(json.dumps(tokenizer["json"]), where), max_length=max_length)
        raise ConfigError(f"{where}: tokenizer must be {{'packaged': name, 'sha256': ...}} or {{'json': <tokenizer.json>}}")

    @classmethod
    def for_model(cls, model: Any) -> WordPiecePreprocessor:
        """The tokenizer of the model's BERT body: its checkpoint's, else its arch's packaged default (MiniLM)."""
        from graftzoo_text.bert import BertBody

        body = getattr(model, "body", None)
        if not isinstance(body, BertBody):
            raise ConfigError(f"a {KIND} model without a preprocessor needs a BERT body to take the tokenizer from; "
                              "set model.preprocessor = WordPiecePreprocessor.from_folder(...)")
        pre = body.preprocessor()
        if pre.input_spec() != model.inputs:
            raise ConfigError(f"the tokenizer of {body.arch} gives inputs {pre.input_spec().to_json()}, but the model was "
                              f"built for {model.inputs.to_json()}: set model.preprocessor to the tokenizer it was trained with")
        return pre

    def state(self) -> dict[str, Any]:
        """Plain JSON that `from_state` rebuilds this preprocessor from."""
        if self.packaged is not None:
            tokenizer: dict[str, Any] = {"packaged": self.packaged, "sha256": PACKAGED_CHECKPOINTS[self.packaged].tokenizer_sha256}
        else:
            tokenizer = {"json": json.loads(self.tokenizer.to_str())}
        return {"kind": KIND, "max_length": self.max_length, "tokenizer": tokenizer}

    def input_spec(self) -> InputSpec:
        """What the ids fit: a body of this vocabulary size padded with `pad_idx`."""
        return InputSpec(KIND, {"vocab_size": self.tokenizer.get_vocab_size(), "pad_idx": self.pad_idx})

    def is_single(self, item: Any) -> bool:
        return isinstance(item, str)

    def encode(self, items: Sequence[Any]) -> tuple[torch.Tensor, ...]:
        """`(ids,)`: the (B, L) token ids of a list of texts."""
        return (self(list(items)),)

    def __call__(self, texts: str | list[str] | tuple[str, ...]) -> torch.Tensor:
        """Token ids (B, L) of one text or a list of texts."""
        items = [texts] if isinstance(texts, str) else texts
        if not isinstance(items, (list, tuple)) or not items:
            raise ConfigError(f"the WordPiece preprocessor takes a string or a non-empty list of strings, got {type(texts).__name__}")
        bad = next((i for i, t in enumerate(items) if not isinstance(t, str)), None)
        if bad is not None:
            raise ConfigError(f"text {bad} is a {type(items[bad]).__name__}, not a string")
        encodings = self.tokenizer.encode_batch(list(items))
        return torch.tensor([e.ids for e in encodings], dtype=torch.long)

    def __repr__(self) -> str:
        source = f"packaged {self.packaged!r}" if self.packaged else "own vocabulary"
        return f"WordPiecePreprocessor({source}, vocab {self.tokenizer.get_vocab_size()}, max_length {self.max_length})"


def _read_tokenizer(path: Path) -> Tokenizer:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the tokenizer {path} ({exc}); a BERT checkpoint folder needs {TOKENIZER_FILE}") from exc
    return _parse_tokenizer(text, str(path))


def _parse_tokenizer(text: str, source: str) -> Tokenizer:
    try:
        return Tokenizer.from_str(text)
    except Exception as exc:  # tokenizers raises a bare Exception on malformed JSON
        raise ConfigError(f"{source} is not a valid tokenizers tokenizer.json ({exc})") from exc


def _pad_id(tokenizer: Tokenizer) -> int:
    """The id padding uses: the tokenizer's own padding setting, else the id of `[PAD]`."""
    padding = tokenizer.padding
    if padding is not None:
        return int(padding["pad_id"])
    pad = tokenizer.token_to_id("[PAD]")
    if pad is None:
        raise ConfigError("the tokenizer has no padding setting and no [PAD] token; a BERT body needs one to pad batches")
    return pad
