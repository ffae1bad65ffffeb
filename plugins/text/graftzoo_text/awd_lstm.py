"""AWD-LSTM (Merity et al.) as fastai builds it: embedding dropout, input/hidden dropouts and
weight-dropped LSTMs, with hidden state carried from one batch to the next."""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call
from torch.nn.utils import parametrize

from graftzoo.errors import ConfigError

#: fastai's `awd_lstm_lm_config` and `awd_lstm_clas_config`.
AWD_LSTM_LM_CONFIG: dict[str, Any] = dict(
    emb_sz=400, n_hid=1152, n_layers=3, pad_token=1, bidir=False, output_p=0.1,
    hidden_p=0.15, input_p=0.25, embed_p=0.02, weight_p=0.2, tie_weights=True, out_bias=True,
)
AWD_LSTM_CLAS_CONFIG: dict[str, Any] = dict(
    emb_sz=400, n_hid=1152, n_layers=3, pad_token=1, bidir=False, output_p=0.4,
    hidden_p=0.3, input_p=0.4, embed_p=0.05, weight_p=0.5,
)
ENCODER_KEYS = ("emb_sz", "n_hid", "n_layers", "bidir", "hidden_p", "input_p", "embed_p", "weight_p")

Hidden = tuple[Tensor, Tensor]


def dropout_mask(like: Tensor, size: tuple[int, ...], p: float) -> Tensor:
    """Bernoulli(1-p) mask scaled by 1/(1-p)."""
    return like.new_empty(size).bernoulli_(1 - p).div_(1 - p)


class RNNDropout(nn.Module):
    """Dropout with one mask for all time steps of a sequence (batch, seq, features)."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0:
            return x
        return x * dropout_mask(x.detach(), (x.size(0), 1, *x.shape[2:]), self.p)


class EmbeddingDropout(nn.Module):
    """Drops whole rows (words) of an embedding matrix. It holds no weights: the embedding is passed
    in, so the embedding is stored once (fastai keeps a second reference under `encoder_dp.emb`)."""

    def __init__(self, embed_p: float) -> None:
        super().__init__()
        self.embed_p = embed_p

    def forward(self, emb: nn.Embedding, words: Tensor) -> Tensor:
        weight = emb.weight
        if self.training and self.embed_p != 0:
            weight = weight * dropout_mask(weight.detach(), (weight.size(0), 1), self.embed_p)
        return F.embedding(words, weight, emb.padding_idx)


class WeightDropout(nn.Module):
    """DropConnect on an LSTM's hidden-to-hidden weights: the weights the LSTM runs with are a
    dropped-out copy of its own parameters, redrawn every forward.

    A plain LSTM runs through `torch.func.functional_call` with the dropped weights. An LSTM whose
    weights carry LoRA adapters (peft wraps it and adds each adapter's update through a
    parametrization during its forward) gets the dropout as a parametrization registered first, for
    that forward only: it runs with `dropout(W) + update`, the source weights dropped, the update not.
    """

    def __init__(self, module: nn.LSTM, weight_p: float, layer_names: tuple[str, ...] = ("weight_hh_l0",)) -> None:
        super().__init__()
        self.module = module
        self.weight_p = weight_p
        self.layer_names = layer_names

    def forward(self, x: Tensor, hidden: Hidden) -> tuple[Tensor, Hidden]:
        if not self.training or self.weight_p == 0:
            return self.module(x, hidden)
        if isinstance(self.module, nn.LSTM):
            dropped = {name: F.dropout(getattr(self.module, name), self.weight_p, training=True) for name in self.layer_names}
            return functional_call(self.module, dropped, (x, hidden))
        lstm = next(m for m in self.module.modules() if isinstance(m, nn.LSTM))  # the layer inside the adapters' wrappers
        masked: list[str] = []
        try:
            for name in self.layer_names:
                weight = getattr(lstm, name)
                mask = dropout_mask(weight.detach(), tuple(weight.shape), self.weight_p)
                parametrize.register_parametrization(lstm, name, MaskedWeight(mask), unsafe=True)
                masked.append(name)
            return self.module(x, hidden)
        finally:
            for name in masked:
                parametrize.remove_parametrizations(lstm, name, leave_parametrized=False)


class MaskedWeight(nn.Module):
    """A parametrization that multiplies a weight by a fixed mask (WeightDropout's mask for one forward)."""

    def __init__(self, mask: Tensor) -> None:
        super().__init__()
        self.mask = mask

    def forward(self, weight: Tensor) -> Tensor:
        return weight * self.mask


class AWD_LSTM(nn.Module):
    """fastai's AWD_LSTM: `forward(ids) -> (batch, seq, emb_sz)`, keeping its hidden state between calls
    (detached), as the language model's continuous streams need; `reset()` zeroes it."""

    initrange = 0.1

    def __init__(self, vocab_sz: int, emb_sz: int, n_hid: int, n_layers: int, pad_token: int = 1,
                 hidden_p: float = 0.2, input_p: float = 0.6, embed_p: float = 0.1, weight_p: float = 0.5,
                 bidir: bool = False) -> None:
        super().__init__()
        self.emb_sz, self.n_hid, self.n_layers, self.pad_token = emb_sz, n_hid, n_layers, pad_token
        self.n_dir = 2 if bidir else 1
        self.encoder = nn.Embedding(vocab_sz, emb_sz, padding_idx=pad_token)
        self.encoder_dp = EmbeddingDropout(embed_p)
        self.rnns = nn.ModuleList([
            WeightDropout(nn.LSTM(emb_sz if layer == 0 else n_hid, self._n_out(layer), 1, batch_first=True,
                                  bidirectional=bidir), weight_p,
                          ("weight_hh_l0", "weight_hh_l0_reverse") if bidir else ("weight_hh_l0",))
            for layer in range(n_layers)
        ])
        self.encoder.weight.data.uniform_(-self.initrange, self.initrange)
        self.input_dp = RNNDropout(input_p)
        self.hidden_dps = nn.ModuleList([RNNDropout(hidden_p) for _ in range(n_layers)])
        self.hidden: list[Hidden] = []
        self.reset()

    def _n_out(self, layer: int) -> int:
        return (self.n_hid if layer != self.n_layers - 1 else self.emb_sz) // self.n_dir

    def reset(self) -> None:
        """Forget the hidden state (the next batch starts new streams)."""
        self.hidden = []

    def forward(self, inp: Tensor) -> Tensor:
        if not self.training and inp.numel() and not 0 <= int(inp.min()) <= int(inp.max()) < self.encoder.num_embeddings:
            raise ConfigError(
                f"token ids must lie in [0, {self.encoder.num_embeddings}) for this AWD-LSTM, got {int(inp.min())}..{int(inp.max())}: "
                "the preprocessor does not match this body (another vocabulary, or an edited saved head?)"
            )
        bs = inp.size(0)
        if len(self.hidden) != self.n_layers or self.hidden[0][0].size(1) != bs:
            self.hidden = [self._resized(layer, bs) for layer in range(self.n_layers)]
        output = self.input_dp(self.encoder_dp(self.encoder, inp))
        new_hidden = []
        for layer, (rnn, hid_dp) in enumerate(zip(self.rnns, self.hidden_dps)):
            output, h = rnn(output, self.hidden[layer])
            new_hidden.append((h[0].detach(), h[1].detach()))
            if layer != self.n_layers - 1:
                output = hid_dp(output)
        self.hidden = new_hidden
        return output

    def keep_rows(self, rows: Tensor) -> None:
        """Zero the hidden state of the rows where `rows` is False (BPT3C: rows not started yet)."""
        mask = rows.to(self.encoder.weight.dtype)[None, :, None]
        self.hidden = [(h * mask, c * mask) for h, c in self.hidden]

    def _resized(self, layer: int, bs: int) -> Hidden:
        """The hidden state of `layer` for batch size `bs`: kept rows, new rows zero (fastai's `_change_hidden`)."""
        weight = self.encoder.weight
        zeros = weight.new_zeros(self.n_dir, bs, self._n_out(layer))
        if len(self.hidden) != self.n_layers:
            return zeros, zeros.clone()
        h, c = self.hidden[layer]
        n = min(bs, h.size(1))
        h2, c2 = zeros, zeros.clone()
        h2[:, :n], c2[:, :n] = h[:, :n], c[:, :n]
        return h2, c2


def awd_lstm_split_groups(net: AWD_LSTM) -> list[list[nn.Module]]:
    """Body groups of the classifier split: the embedding, then each LSTM layer with its dropout."""
    return [[net.encoder, net.encoder_dp]] + [[rnn, dp] for rnn, dp in zip(net.rnns, net.hidden_dps)]
