"""The `tabular/embeddings_mlp` body: fastai's TabularModel up to (not including) its output layer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from graftzoo.body import Body
from graftzoo.inputs import InputSpec
from graftzoo.spec import ArchSpec
from graftzoo_tabular import checks
from graftzoo_tabular.cont_embeddings import ContEmbeddings, cont_embeddings
from graftzoo_tabular.embeddings import ColumnEmbeddings, emb_sz_rule
from graftzoo_tabular.errors import ConfigError
from graftzoo_tabular.layers import batch_norm, batch_norm_forward, lin_bn_drop, skippable

ARCH = "tabular/embeddings_mlp"
KIND = "tabular/columns"
DEFAULT_LAYERS = (200, 100)
MAX_PARAMETERS = 1 << 27  # ~134M (512 MB of float32): far above any table model, a bound for forged configs


def embedding_sizes(spec: InputSpec | Mapping[str, Any], emb_szs: Mapping[str, int] | None = None) -> list[tuple[int, int]]:
    """(cardinality, width) per categorical input: `emb_szs[name]` when given, else fastai's `emb_sz_rule`."""
    spec = spec.params if isinstance(spec, InputSpec) else spec
    emb_szs = dict(emb_szs or {})
    unknown = sorted(set(emb_szs) - set(spec["cat_names"]))
    if unknown:
        raise ConfigError(f"emb_szs names column(s) {unknown} that are not categorical inputs {spec['cat_names']}")
    return [(int(n), int(emb_szs.get(name, emb_sz_rule(int(n))))) for name, n in zip(spec["cat_names"], spec["cardinalities"])]


class EmbeddingsMLP(nn.Module):
    """Embeddings of the categorical columns (with dropout `embed_p`), BatchNorm over the continuous
    columns, concatenated, then `LinBnDrop` blocks (ReLU) of widths `layers` with dropouts `ps`.

    With `cont_emb` ("periodic" or "piecewise_linear", see `cont_embeddings`), each continuous
    column becomes a `cont_emb_dim` vector instead (and is not batch-normalized); piecewise-linear
    needs `cont_bins`, one list of edges per column.
    """

    def __init__(
        self,
        emb_szs: Sequence[tuple[int, int]],
        n_cont: int,
        layers: Sequence[int] = DEFAULT_LAYERS,
        ps: float | Sequence[float] | None = None,
        embed_p: float = 0.0,
        use_bn: bool = True,
        bn_cont: bool = True,
        lin_first: bool = True,
        cont_emb: str | None = None,
        cont_emb_dim: int = 24,
        cont_bins: Sequence[Sequence[float]] | None = None,
        cont_emb_sigma: float = 0.01,
    ) -> None:
        super().__init__()
        layers = [int(n) for n in layers]
        ps_list = [0.0] * len(layers) if ps is None else ([float(ps)] * len(layers) if isinstance(ps, (int, float)) else [float(p) for p in ps])
        if len(ps_list) != len(layers):
            raise ConfigError(f"ps has {len(ps_list)} dropout probabilities for {len(layers)} layers")
        self.embeds = ColumnEmbeddings([n for n, _ in emb_szs], [d for _, d in emb_szs]) if emb_szs else None
        self.emb_drop = nn.Dropout(embed_p)
        self.cont_embeds = _cont_embeddings(cont_emb, n_cont, cont_emb_dim, cont_bins, cont_emb_sigma)
        self.bn_cont = batch_norm(n_cont) if bn_cont and n_cont and self.cont_embeds is None else None
        self.n_emb = self.embeds.n_out if self.embeds is not None else 0
        self.n_cont = n_cont
        if self.n_emb + n_cont == 0:
            raise ConfigError("a tabular body needs at least one categorical or continuous column")
        n_cont_out = self.cont_embeds.n_out if self.cont_embeds is not None else n_cont
        sizes = [self.n_emb + n_cont_out, *layers]
        self.layers = nn.Sequential(*[
            lin_bn_drop(sizes[i], sizes[i + 1], bn=use_bn, p=p, act=True, lin_first=lin_first) for i, p in enumerate(ps_list)
        ])
        self.num_features = sizes[-1]

    def forward(self, x_cat: torch.Tensor, x_cont: torch.Tensor) -> torch.Tensor:
        parts = []
        if self.embeds is not None:
            emb = self.embeds(x_cat)
            parts.append(emb if skippable(self.emb_drop) else self.emb_drop(emb))
        if self.cont_embeds is not None:
            parts.append(self.cont_embeds(x_cont))
        elif self.n_cont:
            parts.append(batch_norm_forward(self.bn_cont, x_cont) if self.bn_cont is not None else x_cont)
        x = parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
        return self.layers(x)


def _cont_embeddings(
    kind: str | None, n_cont: int, dim: int, bins: Sequence[Sequence[float]] | None, sigma: float
) -> ContEmbeddings | None:
    if kind is None:
        return None
    if not n_cont:
        raise ConfigError(f"cont_emb={kind!r} needs continuous columns; this table has none")
    return cont_embeddings(kind, n_cont, dim, bins, sigma)


class TabularBody(Body):
    """A Body whose forward takes `(x_cat, x_cont)`; its parameters form one group.

    In eval mode (predict, validation) the inputs are checked against the columns the body was built
    for, so rows encoded by a preprocessor that does not match it are a clear error, not an index error.
    """

    cardinalities: torch.Tensor

    def __init__(self, net: nn.Module, **kwargs: Any) -> None:
        super().__init__(net, **kwargs)
        cards = self.inputs.params["cardinalities"]
        self.register_buffer("cardinalities", torch.tensor(cards, dtype=torch.long), persistent=False)  # from the input spec

    def forward(self, x_cat: torch.Tensor, x_cont: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        if not self.training:
            check_inputs(self.inputs, self.cardinalities, x_cat, x_cont)
        out: torch.Tensor = self.net(x_cat, x_cont)
        return out


def check_inputs(inputs: InputSpec, cardinalities: torch.Tensor, x_cat: torch.Tensor, x_cont: torch.Tensor) -> None:
    """x_cat holds one code per categorical column within its cardinality; x_cont one number per continuous column."""
    cards = inputs.params["cardinalities"]
    if x_cat.dim() != 2 or x_cat.shape[1] != len(cards) or x_cont.dim() != 2 or x_cont.shape[1] != inputs.params["n_cont"]:
        raise ConfigError(
            f"the body takes x_cat (B, {len(cards)}) and x_cont (B, {inputs.params['n_cont']}), got "
            f"{tuple(x_cat.shape)} and {tuple(x_cont.shape)}: the rows were encoded for other columns"
        )
    if cards:
        over = (x_cat < 0) | (x_cat >= cardinalities)
        if bool(over.any()):
            column = inputs.params["cat_names"][int(over.any(dim=0).nonzero()[0, 0])]
            raise ConfigError(
                f"a category code of column {column!r} is beyond the {cards[inputs.params['cat_names'].index(column)]} "
                "categories the body was built for: the preprocessor does not match this body (was the saved head edited?)"
            )


def columns_inputs(inputs: InputSpec) -> InputSpec:
    """`inputs`, checked to be a bounded `tabular/columns` spec (it may come from an untrusted graftzoo.json)."""
    if not isinstance(inputs, InputSpec) or inputs.kind != KIND:
        raise ConfigError(
            f"{ARCH} is built from a {KIND!r} input spec (the column cardinalities); got {inputs!r}. "
            "Use tabular_learner(dls), or pass inputs=dls.preprocessor.input_spec()"
        )
    params, where = inputs.params, f"the {KIND} inputs"
    checks.mapping(params, where, {"cat_names", "cardinalities", "cont_names", "n_cont", "fingerprint"})
    cat_names = checks.names(params["cat_names"], f"{where}: cat_names")
    cont_names = checks.names(params["cont_names"], f"{where}: cont_names")
    cards = params["cardinalities"]
    if not isinstance(cards, list) or len(cards) != len(cat_names):
        raise ConfigError(f"{where}: cardinalities must be a list of one int per categorical column ({len(cat_names)})")
    for name, n in zip(cat_names, cards):
        checks.integer(n, f"{where}: cardinality of {name!r}", 1, checks.MAX_CATEGORIES)
    checks.integer(params["n_cont"], f"{where}: n_cont", len(cont_names), len(cont_names))
    if not isinstance(params["fingerprint"], str) or len(params["fingerprint"]) > 100:
        raise ConfigError(f"{where}: fingerprint must be the preprocessor's 'sha256:...' text")
    return inputs


def build_network(spec: ArchSpec, inputs: InputSpec, weights: str | None = None, **body_kwargs: Any) -> EmbeddingsMLP:
    """The `factory` build step: an EmbeddingsMLP for the columns `inputs` describes, sized within bounds."""
    params = columns_inputs(inputs).params
    emb_szs = embedding_sizes(params, body_kwargs.pop("emb_szs", None))
    layers = body_kwargs.pop("layers", DEFAULT_LAYERS)
    n_params = _parameter_count(emb_szs, int(params["n_cont"]), layers, body_kwargs)
    if n_params > MAX_PARAMETERS:
        raise ConfigError(
            f"{ARCH} with these columns and settings would have {n_params:,} parameters, more than {MAX_PARAMETERS:,}: "
            "use narrower layers or emb_szs"
        )
    return EmbeddingsMLP(emb_szs, int(params["n_cont"]), layers, **body_kwargs)


def wrap_body(model: nn.Module, spec: ArchSpec, inputs: InputSpec, weights: str | None, cut: Any) -> TabularBody:
    """The `body` build step: the whole network is the body (a table has nothing to cut off)."""
    if cut is not None:
        raise ConfigError(f"{ARCH} is not cut (it has no classifier to remove); leave cut=None")
    if not isinstance(model, EmbeddingsMLP):
        raise ConfigError(f"{ARCH}'s body step takes an EmbeddingsMLP, got {type(model).__name__}")
    return TabularBody(model, spec=spec, weights=weights, inputs=inputs, num_features=model.num_features, feature_info=[])


def _parameter_count(emb_szs: Sequence[tuple[int, int]], n_cont: int, layers: Sequence[int], settings: Mapping[str, Any]) -> int:
    """How many parameters the network will have, about (counted before anything is allocated)."""
    n_emb = sum(d for _, d in emb_szs)
    dim = int(settings.get("cont_emb_dim", 24))
    cont_in = {"periodic": 2 * 48, "piecewise_linear": max((len(b) for b in settings.get("cont_bins") or [[0]]), default=1)}
    per_column = cont_in.get(settings.get("cont_emb") or "", 0)
    cont = n_cont * (per_column + 1) * dim if per_column else 0
    sizes = [n_emb + (n_cont * dim if per_column else n_cont), *[int(n) for n in layers]]
    linear = sum(a * b + 2 * b for a, b in zip(sizes, sizes[1:]))
    return sum(n * d for n, d in emb_szs) + cont + linear


def tabular_body(
    inputs: InputSpec | Mapping[str, Any] | None = None, weights: str | None = None, **body_kwargs: Any
) -> Body:
    """The `tabular/embeddings_mlp` body for `inputs` (`TabularPreprocessor.input_spec()`), through
    `graftzoo.create_body`; `body_kwargs` are the arch's settings (layers, ps, emb_szs, ...), None meaning the default."""
    from graftzoo.building import create_body

    if inputs is None:
        raise ConfigError(f"{ARCH} needs inputs=dls.preprocessor.input_spec() (a {KIND!r} input spec)")
    settings = {k: v for k, v in body_kwargs.items() if v is not None}  # None: the default
    return create_body(ARCH, weights=weights, inputs=InputSpec.from_json(inputs), body_kwargs=settings)
