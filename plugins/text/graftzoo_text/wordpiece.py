"""The WordPiece preprocessor of BERT bodies: texts → padded token ids, through the `tokenizers` library.

Its state is plain JSON and small: the packaged tokenizer is referenced by name and sha256; any
other tokenizer travels whole (its `tokenizer.json`, vocabulary included).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from tokenizers import Tokenizer

from graftzoo.errors import ConfigError
from graftzoo_text.bert_weights import PACKAGED_CHECKPOINTS, TOKENIZER_FILE, packaged_folder, sha256_of

KIND = "text/wordpiece"
DEFAULT_MAX_LENGTH = 128


class WordPiecePreprocessor:
    """Texts → (B, L) int64 token ids: `[CLS] … [SEP]`, truncated to `max_length`, right-padded to the longest."""

    kind = KIND

    def __init__(self, tokenizer: Tokenizer, *, max_length: int = DEFAULT_MAX_LENGTH, packaged: str | None = None) -> None:
        if not isinstance(max_length, int) or max_length < 2:
            raise ConfigError(f"max_length must be an int of at least 2 (room for [CLS] and [SEP]), got {max_length!r}")
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
        """Rebuild from `state()` (as read back from JSON)."""
        if not isinstance(state, dict) or state.get("kind") != KIND:
            raise ConfigError(f"not a {KIND} preprocessor state: expected a dict with kind {KIND!r}")
        tokenizer = state.get("tokenizer")
        max_length = state.get("max_length", DEFAULT_MAX_LENGTH)
        if isinstance(tokenizer, dict) and "packaged" in tokenizer:
            entry = PACKAGED_CHECKPOINTS.get(tokenizer["packaged"])
            if entry is None or tokenizer.get("sha256") != entry.tokenizer_sha256:
                raise ConfigError(
                    f"the state names packaged tokenizer {tokenizer.get('packaged')!r} with sha256 {tokenizer.get('sha256')!r}, "
                    f"which this graftzoo-text does not serve (known: {sorted(PACKAGED_CHECKPOINTS)}); upgrade graftzoo-text"
                )
            return cls.from_packaged(entry.name, max_length=max_length)
        if isinstance(tokenizer, dict) and isinstance(tokenizer.get("json"), dict):
            return cls(_parse_tokenizer(json.dumps(tokenizer["json"]), "the preprocessor state"), max_length=max_length)
        raise ConfigError(f"{KIND} state needs 'tokenizer': {{'packaged': name, 'sha256': ...}} or {{'json': <tokenizer.json>}}")

    def state(self) -> dict[str, Any]:
        """Plain JSON that `from_state` rebuilds this preprocessor from."""
        if self.packaged is not None:
            tokenizer: dict[str, Any] = {"packaged": self.packaged, "sha256": PACKAGED_CHECKPOINTS[self.packaged].tokenizer_sha256}
        else:
            tokenizer = {"json": json.loads(self.tokenizer.to_str())}
        return {"kind": KIND, "max_length": self.max_length, "tokenizer": tokenizer}

    def input_spec(self) -> dict[str, Any]:
        """What the ids fit: a body of this vocabulary size padded with `pad_idx`."""
        return {"kind": KIND, "vocab_size": self.tokenizer.get_vocab_size(), "pad_idx": self.pad_idx}

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
