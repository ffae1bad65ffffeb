"""A BERT encoder in plain torch, as a graftzoo body: loads BERT-style checkpoints without `transformers`.

Submodule names follow `transformers`' `BertModel` (`embeddings.word_embeddings`,
`encoder.layer.N.attention.self.query`, ...), so its `model.safetensors` loads key for key; the
outputs match its `last_hidden_state`. The body takes token ids (B, L) padded with `pad_token_id`
(the attention mask is where the ids are not padding) and returns hidden states (B, L, hidden).
The pooler is not part of the body: a head pools (see `graftzoo_text.bert_head`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from graftzoo.body import Body
from graftzoo.errors import ConfigError
from graftzoo.inputs import InputSpec
from graftzoo.spec import ArchSpec

if TYPE_CHECKING:
    from graftzoo_text.wordpiece import WordPiecePreprocessor

ACTIVATIONS = ("gelu", "gelu_new", "gelu_pytorch_tanh", "relu")
KIND = "text/wordpiece"


@dataclass(frozen=True)
class BertConfig:
    """The fields of a BERT `config.json` that shape the network (others are ignored)."""

    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0

    def __post_init__(self) -> None:
        if self.hidden_size % self.num_attention_heads:
            raise ConfigError(f"BERT hidden_size {self.hidden_size} is not a multiple of num_attention_heads {self.num_attention_heads}")
        if self.hidden_act not in ACTIVATIONS:
            raise ConfigError(f"BERT hidden_act {self.hidden_act!r} is not supported; use one of {list(ACTIVATIONS)}")

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str = "config.json") -> BertConfig:
        """The config of a `transformers` BERT `config.json`; other model types are a ConfigError."""
        model_type = data.get("model_type", "bert")
        if model_type != "bert":
            raise ConfigError(f"{source} describes a {model_type!r} model; only BERT-style checkpoints (model_type 'bert') load here")
        position = data.get("position_embedding_type", "absolute")
        if position != "absolute":
            raise ConfigError(f"{source}: position_embedding_type {position!r} is not supported (only 'absolute')")
        fields = {f.name for f in dataclasses.fields(cls)}
        try:
            return cls(**{k: v for k, v in data.items() if k in fields})
        except TypeError as exc:
            raise ConfigError(f"{source} is not a valid BERT config: {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class BertEmbeddings(nn.Module):
    """Word + position + token-type embeddings, then LayerNorm and dropout."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        length = input_ids.shape[1]
        if length > self.position_embeddings.num_embeddings:
            raise ConfigError(
                f"{length} tokens exceed the {self.position_embeddings.num_embeddings} positions of this BERT; "
                "truncate the texts (the preprocessor's max_length)"
            )
        positions = torch.arange(length, device=input_ids.device)
        token_types = torch.zeros_like(input_ids)
        x = self.word_embeddings(input_ids) + self.position_embeddings(positions) + self.token_type_embeddings(token_types)
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    """Multi-head scaled dot-product attention over the unmasked tokens."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.num_heads = config.num_attention_heads
        self.head_size = config.hidden_size // config.num_attention_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout_p = config.attention_probs_dropout_prob

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch, length, hidden = x.shape
        q, k, v = (proj(x).view(batch, length, self.num_heads, self.head_size).transpose(1, 2)
                   for proj in (self.query, self.key, self.value))
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask[:, None, None, :], dropout_p=self.dropout_p if self.training else 0.0,
            scale=1.0 / math.sqrt(self.head_size),
        )
        return out.transpose(1, 2).reshape(batch, length, hidden)


class BertSelfOutput(nn.Module):
    """Projection of the attention output, dropout, residual LayerNorm."""

    def __init__(self, config: BertConfig, inner: int) -> None:
        super().__init__()
        self.dense = nn.Linear(inner, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class BertAttention(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertSelfOutput(config, config.hidden_size)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.output(self.self(x, mask), x)


class BertIntermediate(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.hidden_act = config.hidden_act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dense(x)
        if self.hidden_act == "relu":
            return F.relu(x)
        return F.gelu(x, approximate="none" if self.hidden_act == "gelu" else "tanh")


class BertLayer(nn.Module):
    """One transformer block: attention then feed-forward, each with a residual LayerNorm."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertSelfOutput(config, config.intermediate_size)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.attention(x, mask)
        return self.output(self.intermediate(x), x)


class BertEncoder(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList(BertLayer(config) for _ in range(config.num_hidden_layers))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        for layer in self.layer:
            x = layer(x, mask)
        return x


class BertModel(nn.Module):
    """BERT without pooler: token ids (B, L) → hidden states (B, L, hidden); padding never attended."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.apply(self._init_weights)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        if input_ids.dim() != 2 or input_ids.is_floating_point():
            raise ConfigError(f"BERT takes token ids as an integer (batch, length) tensor, got {input_ids.dtype} of shape {tuple(input_ids.shape)}")
        if input_ids.numel() and not 0 <= int(input_ids.min()) <= int(input_ids.max()) < self.config.vocab_size:
            raise ConfigError(
                f"token ids must lie in [0, {self.config.vocab_size}) for this BERT, got {int(input_ids.min())}..{int(input_ids.max())}: "
                "were they made by another tokenizer? Use the body's preprocessor()"
            )
        mask = input_ids != self.config.pad_token_id if attention_mask is None else attention_mask.bool()
        return self.encoder(self.embeddings(input_ids), mask)

    def _init_weights(self, module: nn.Module) -> None:
        """BERT's initialisation (normal with std 0.02), for bodies built without weights."""
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)


def bert_model(**config: Any) -> BertModel:
    """A randomly initialised BERT of the given `config.json` fields (the archs' `factory`)."""
    return BertModel(BertConfig(**config))


def keep_layers(net: BertModel, n_layers: int | None) -> BertModel:
    """Cut the encoder after its first `n_layers` layers (None keeps them all)."""
    if n_layers is None:
        return net
    total = len(net.encoder.layer)
    if not isinstance(n_layers, int) or not 1 <= n_layers <= total:
        raise ConfigError(f"cut for a BERT body is the number of encoder layers to keep, 1 to {total}; got {n_layers!r}")
    net.encoder.layer = net.encoder.layer[:n_layers]
    return net


def bert_split(net: nn.Module) -> list[list[nn.Module]]:
    """Body groups: the embeddings, then the encoder layers two by two (a last odd layer alone)."""
    if not isinstance(net, BertModel):
        raise ConfigError(f"bert_split splits a BertModel, not a {type(net).__name__}")
    layers: list[nn.Module] = list(net.encoder.layer)
    embeddings: list[nn.Module] = [net.embeddings]
    return [embeddings] + [layers[i:i + 2] for i in range(0, len(layers), 2)]


class BertBody(Body):
    """A BERT encoder as a body: token ids in, hidden states (B, L, num_features) out.

    `checkpoint` is the local folder its weights came from (config.json, model.safetensors,
    tokenizer.json), None for a randomly initialised body.
    """

    def __init__(self, net: BertModel, *, spec: ArchSpec, weights: str | None, cut: int | None,
                 inputs: InputSpec | None = None, checkpoint: Path | None = None) -> None:
        config = net.config
        super().__init__(
            net, spec=spec, weights=weights, inputs=checked_inputs(config, inputs, spec.name), cut=cut, split=bert_split,
            num_features=config.hidden_size,
            feature_info=[{"module": "encoder", "num_chs": config.hidden_size, "reduction": 1}],
        )
        self.checkpoint = checkpoint

    @property
    def config(self) -> BertConfig:
        return self.net.config  # type: ignore[return-value]

    @property
    def pad_idx(self) -> int:
        return self.config.pad_token_id

    def input_spec(self) -> InputSpec:
        """What the body takes: WordPiece token ids of this vocabulary, padded with `pad_idx`."""
        return self.inputs

    def preprocessor(self, max_length: int | None = None) -> WordPiecePreprocessor:
        """The WordPiece preprocessor of this body's checkpoint (or of the arch's default weights)."""
        from graftzoo_text.bert_weights import checkpoint_folder
        from graftzoo_text.wordpiece import DEFAULT_MAX_LENGTH, WordPiecePreprocessor

        folder = self.checkpoint
        if folder is None:
            if self.spec.default_weights is None:
                raise ConfigError(f"{self.arch} was built without weights and has no default checkpoint to take a tokenizer from; "
                                  "build the preprocessor with WordPiecePreprocessor.from_folder(...)")
            folder = checkpoint_folder(self.spec.default_weights)
        length = min(DEFAULT_MAX_LENGTH, self.config.max_position_embeddings) if max_length is None else max_length
        if length > self.config.max_position_embeddings:
            raise ConfigError(f"max_length {length} exceeds the {self.config.max_position_embeddings} positions of {self.arch}")
        return WordPiecePreprocessor.from_folder(folder, max_length=length)


def checked_inputs(config: BertConfig, inputs: InputSpec | None, arch: str) -> InputSpec:
    """The `text/wordpiece` inputs of a BERT of `config`; given `inputs` must agree with it."""
    own = InputSpec(KIND, {"vocab_size": config.vocab_size, "pad_idx": config.pad_token_id})
    if inputs is not None and inputs != own:
        raise ConfigError(f"{arch} takes inputs {own.to_json()} (its checkpoint's vocabulary), not {inputs.to_json()}"[:400])
    return own


def build_body(spec: ArchSpec, weights: str | None = None, inputs: InputSpec | None = None,
               cut: int | str | None = None) -> BertBody:
    """The arch's `body` builder: a BERT from `weights` (a checkpoint folder reference) or, without, from
    the arch's `factory_kwargs`; `inputs` (text/wordpiece), when given, must match its vocabulary."""
    from graftzoo_text.bert_weights import canonical_ref, checkpoint_folder, load_checkpoint, read_config

    if cut is not None and not isinstance(cut, int):
        raise ConfigError(f"cut for a BERT body is the number of encoder layers to keep (an int), got {cut!r}")
    if weights is None:
        if not spec.factory_kwargs:
            raise ConfigError(
                f"{spec.name} takes its size from a checkpoint's config.json: pass weights='file:///path/to/folder' "
                "or 'hf://namespace/repo' (a folder with config.json, model.safetensors and tokenizer.json)"
            )
        config = BertConfig(**spec.factory_kwargs)
        checked_inputs(config, inputs, spec.name)
        return BertBody(keep_layers(BertModel(config), cut), spec=spec, weights=None, cut=cut, inputs=inputs)
    weights = canonical_ref(weights)
    folder = checkpoint_folder(weights)
    config = read_config(folder)
    _check_fits(config, spec, weights)
    checked_inputs(config, inputs, spec.name)
    net = BertModel(config)
    load_checkpoint(net, folder, weights)
    return BertBody(keep_layers(net, cut), spec=spec, weights=weights, cut=cut, inputs=inputs, checkpoint=folder)


def _check_fits(config: BertConfig, spec: ArchSpec, weights: str) -> None:
    """An arch with a fixed size (`factory_kwargs`) only takes checkpoints of that size."""
    wanted = BertConfig(**spec.factory_kwargs).to_dict() if spec.factory_kwargs else {}
    differ = {k: (wanted[k], v) for k, v in config.to_dict().items() if k in spec.factory_kwargs and wanted[k] != v}
    if differ:
        details = ", ".join(f"{k} {got} instead of {want}" for k, (want, got) in differ.items())
        raise ConfigError(f"weights {weights!r} do not fit {spec.name} ({details}); use the arch text/bert, which takes any BERT size")
