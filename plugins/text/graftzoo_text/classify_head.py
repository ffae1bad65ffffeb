"""The `text/classify` head: BPT3C over the AWD_LSTM body, masked concat pooling, LinBnDrop layers."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from graftzoo.body import Body
from graftzoo.errors import ConfigError
from graftzoo.head import Head
from graftzoo_text.awd_lstm import AWD_LSTM
from graftzoo_text.layers import LinBnDrop, SigmoidRange
from graftzoo_text.padding import chunk_align


def bpt3c_encode(net: AWD_LSTM, x: Tensor, pad_idx: int, bptt: int, max_len: int | None) -> tuple[Tensor, Tensor]:
    """fastai's SentenceEncoder: run `net` over `x` in `bptt` chunks, keeping the outputs of the last
    `max_len` tokens and their padding mask.

    Unlike fastai it does not trust the batch layout: rows are re-aligned so each text starts on a
    chunk boundary, and the hidden state of a row stays zero until its text starts, so a text gives the
    same output alone or in any batch, sorted or not.
    """
    x = chunk_align(x, pad_idx, bptt)
    sl = x.size(1)
    mask = x == pad_idx
    started_by = (~mask).cumsum(1) > 0
    net.reset()
    outs, masks = [], []
    for i in range(0, sl, bptt):
        end = min(i + bptt, sl)
        out = net(x[:, i:end])
        net.keep_rows(started_by[:, end - 1])
        if max_len is None or sl - i <= max_len:
            outs.append(out)
            masks.append(mask[:, i:end])
    net.reset()
    return torch.cat(outs, dim=1), torch.cat(masks, dim=1)


def masked_concat_pool(output: Tensor, mask: Tensor) -> Tensor:
    """[last token, max, mean] over the non-padding positions (fastai's `masked_concat_pool`).

    The last token is the last non-padding position. fastai counts the padding in the last `bptt`
    positions instead, which picks a padding position for a text shorter than the batch's last chunk.
    """
    lens = output.shape[1] - mask.long().sum(dim=1)
    last_index = (~mask).long().cumsum(dim=1).argmax(dim=1)
    avg_pool = output.masked_fill(mask[:, :, None], 0).sum(dim=1) / lens.clamp(min=1).to(output.dtype)[:, None]
    max_pool = output.masked_fill(mask[:, :, None], -float("inf")).max(dim=1)[0]
    last = output[torch.arange(output.size(0), device=output.device), last_index]
    return torch.cat([last, max_pool, avg_pool], 1)


class TextClassifierHead(Head):
    """fastai's PoolingLinearClassifier applied BPT3C-style; `outputs` keeps the encoder outputs of the
    last training batch for the AR/TAR regularizer."""

    def __init__(self, n_features: int, n_out: int, pad_idx: int = 1, bptt: int = 72, max_len: int | None = 72 * 20,
                 lin_ftrs: list[int] | None = None, ps: list[float] | None = None, output_p: float = 0.4,
                 y_range: list[float] | None = None) -> None:
        super().__init__()
        lin_ftrs = [50] if lin_ftrs is None else list(lin_ftrs)
        ps = [0.1] * len(lin_ftrs) if ps is None else list(ps)
        dims = [n_features * 3, *lin_ftrs, n_out]
        all_ps = [output_p, *ps]
        if len(all_ps) != len(dims) - 1:
            raise ConfigError(f"text/classify: {len(ps)} dropout values for {len(lin_ftrs)} hidden layers; give one per layer")
        acts: list[nn.Module | None] = [nn.ReLU(inplace=True) for _ in dims[2:]] + [None]
        layers: list[nn.Module] = [LinBnDrop(i, o, p=p, act=a) for i, o, p, a in zip(dims[:-1], dims[1:], all_ps, acts)]
        if y_range is not None:
            layers.append(SigmoidRange(*y_range))
        self.layers = nn.Sequential(*layers)
        self.pad_idx, self.bptt, self.max_len = pad_idx, bptt, max_len
        self.outputs: tuple[Tensor, Tensor] | None = None

    def graft_forward(self, body: nn.Module, *inputs: Tensor) -> Tensor:
        net = body.net
        assert isinstance(net, AWD_LSTM)
        out, mask = bpt3c_encode(net, inputs[0], self.pad_idx, self.bptt, self.max_len)
        self.outputs = (out, out) if self.training else None
        return self(masked_concat_pool(out, mask))

    def forward(self, pooled: Tensor) -> Tensor:
        return self.layers(pooled)


def classify_head(body: Body, n_out: int, bptt: int = 72, max_len: int | None = 72 * 20,
                  lin_ftrs: list[int] | None = None, ps: list[float] | None = None, output_p: float = 0.4,
                  y_range: list[float] | None = None) -> TextClassifierHead:
    """Head factory `text/classify` (fastai's `get_text_classifier` head; `output_p` already times drop_mult)."""
    net = body.net
    if not isinstance(net, AWD_LSTM):
        raise ConfigError(f"the text/classify head sits on an AWD_LSTM body, not {type(net).__name__}")
    return TextClassifierHead(net.emb_sz, n_out, net.pad_token, bptt, max_len, lin_ftrs, ps, output_p, y_range)
