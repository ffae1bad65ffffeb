"""AWD-LSTM encoder files (safetensors): every tensor once, the vocabulary in the metadata, and fastai's
`match_embeds` when the file's vocabulary differs from the model's."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import Tensor

from graftzoo.errors import WeightsError
from graftzoo_text.awd_lstm import AWD_LSTM

FORMAT = "graftzoo-text.awd_lstm/1"
META_KEY = "graftzoo.text"
EMBEDDING = "encoder.weight"
DECODER_BIAS = "decoder.bias"


def match_embeds(weight: Tensor, old_vocab: Sequence[str], new_vocab: Sequence[str],
                 bias: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """Rows of `weight` (and entries of `bias`) re-indexed for `new_vocab`: a known token keeps its row,
    a new one gets the mean row (fastai's `match_embeds`)."""
    old_index = {tok: i for i, tok in enumerate(old_vocab)}
    idx = torch.tensor([old_index.get(tok, -1) for tok in new_vocab], dtype=torch.long)
    known = idx >= 0
    new_weight = weight.mean(0, keepdim=True).repeat(len(new_vocab), 1)
    new_weight[known] = weight[idx[known]]
    new_bias = None
    if bias is not None:
        new_bias = bias.mean().repeat(len(new_vocab))
        new_bias[known] = bias[idx[known]]
    return new_weight, new_bias


def save_encoder(net: AWD_LSTM, path: str | Path, vocab: Sequence[str], decoder_bias: Tensor | None = None) -> Path:
    """Write the encoder's tensors (and a language model's decoder bias) with its vocabulary, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().contiguous().cpu() for k, v in net.state_dict().items()}
    if decoder_bias is not None:
        tensors[DECODER_BIAS] = decoder_bias.detach().contiguous().cpu()
    meta = {"format": FORMAT, "vocab": list(vocab),
            "config": {"emb_sz": net.emb_sz, "n_hid": net.n_hid, "n_layers": net.n_layers, "bidir": net.n_dir == 2}}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata={META_KEY: json.dumps(meta)})
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_encoder(path: str | Path) -> tuple[dict[str, Tensor], dict[str, object]]:
    """(tensors, metadata) of an encoder file, or a WeightsError saying what is wrong with it."""
    path = Path(str(path).removeprefix("file://"))
    if not path.is_file():
        raise WeightsError(f"no encoder file at {path}; save one with learn.save_encoder(name)")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads((f.metadata() or {}).get(META_KEY, "{}"))
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise WeightsError(f"{path} is not a readable safetensors file ({exc})") from exc
    if meta.get("format") != FORMAT:
        raise WeightsError(f"{path} is not an AWD-LSTM encoder file (format {meta.get('format')!r}, expected {FORMAT!r})")
    return tensors, meta


def load_encoder(net: AWD_LSTM, path: str | Path, vocab: Sequence[str] | None = None) -> Tensor | None:
    """Load an encoder file into `net`, re-indexing the embedding for `vocab` when the file's vocabulary
    differs; returns the file's decoder bias (re-indexed too) when it has one."""
    tensors, meta = read_encoder(path)
    bias = tensors.pop(DECODER_BIAS, None)
    old_vocab = meta.get("vocab")
    if vocab is not None and isinstance(old_vocab, list) and list(old_vocab) != list(vocab):
        tensors[EMBEDDING], bias = match_embeds(tensors[EMBEDDING], old_vocab, vocab, bias)
    own = net.state_dict()
    wrong = {k: (tuple(v.shape), tuple(own[k].shape)) for k, v in tensors.items() if k in own and v.shape != own[k].shape}
    missing, extra = sorted(set(own) - set(tensors)), sorted(set(tensors) - set(own))
    if wrong or missing or extra:
        raise WeightsError(
            f"{path} does not fit this AWD-LSTM (file config {meta.get('config')}): shapes {wrong}, missing {missing}, "
            f"unexpected {extra}; build the model with the same emb_sz, n_hid and n_layers"
        )
    net.load_state_dict(tensors)
    return bias
