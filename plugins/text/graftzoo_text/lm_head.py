"""The `text/lm` head: fastai's LinearDecoder, its weight tied to the body's embedding."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from graftzoo.body import Body
from graftzoo.head import Head
from graftzoo_text.awd_lstm import AWD_LSTM, RNNDropout


class LMHead(Head):
    """Output dropout then a linear decoder to vocabulary logits (batch, seq, vocab).

    Tied (the default), the decoder's weight *is* the body's embedding matrix: it is not a parameter of
    the head, so it is trained, split and saved once. `outputs` keeps (raw, dropped) features of the last
    training batch for the AR/TAR regularizer.
    """

    initrange = 0.1
    _encoder: nn.Embedding

    def __init__(self, encoder: nn.Embedding, n_out: int, output_p: float = 0.1, tie_weights: bool = True,
                 out_bias: bool = True) -> None:
        super().__init__()
        n_hid = encoder.embedding_dim
        self.output_dp = RNNDropout(output_p)
        self.tie_weights = tie_weights
        object.__setattr__(self, "_encoder", encoder)  # a reference, not a submodule: stored once, in the body
        self.weight = None if tie_weights else nn.Parameter(torch.empty(n_out, n_hid).uniform_(-self.initrange, self.initrange))
        self.bias = nn.Parameter(torch.zeros(n_out)) if out_bias else None
        self.outputs: tuple[Tensor, Tensor] | None = None

    @property
    def decoder_weight(self) -> Tensor:
        return self._encoder.weight if self.weight is None else self.weight

    def forward(self, raw: Tensor) -> Tensor:
        dropped = self.output_dp(raw)
        self.outputs = (raw, dropped) if self.training else None
        return F.linear(dropped, self.decoder_weight, self.bias)

    def split(self, body: nn.Module) -> list[list[nn.Parameter]]:
        """fastai's `awd_lstm_lm_split`: one group per LSTM layer, then embedding and decoder."""
        net = body.net
        assert isinstance(net, AWD_LSTM)
        groups = [list(rnn.parameters()) for rnn in net.rnns]
        return groups + [list(net.encoder.parameters()) + list(self.parameters())]


def lm_head(body: Body, n_out: int, output_p: float = 0.1, tie_weights: bool = True, out_bias: bool = True) -> LMHead:
    """Head factory `text/lm`: `n_out` is the vocabulary size."""
    net = body.net
    if not isinstance(net, AWD_LSTM):
        from graftzoo.errors import ConfigError

        raise ConfigError(f"the text/lm head sits on an AWD_LSTM body, not {type(net).__name__}")
    if tie_weights and n_out != net.encoder.num_embeddings:
        from graftzoo.errors import ConfigError

        raise ConfigError(f"a tied decoder has one output per vocabulary token: n_out={n_out}, vocabulary {net.encoder.num_embeddings}")
    return LMHead(net.encoder, n_out, output_p, tie_weights, out_bias)
