"""The `tabular/embeddings_mlp` body: fastai's TabularModel up to (not including) its output layer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from graftzoo.body import Body
from graftzoo.spec import ArchSpec
from graftzoo_tabular.cont_embeddings import ContEmbeddings, cont_embeddings
from graftzoo_tabular.embeddings import ColumnEmbeddings, emb_sz_rule
from graftzoo_tabular.errors import ConfigError
from graftzoo_tabular.layers import batch_norm, lin_bn_drop

ARCH = "tabular/embeddings_mlp"
DEFAULT_LAYERS = (200, 100)


def embedding_sizes(spec: Mapping[str, Any], emb_szs: Mapping[str, int] | None = None) -> list[tuple[int, int]]:
    """(cardinality, width) per categorical input: `emb_szs[name]` when given, else fastai's `emb_sz_rule`."""
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
            parts.append(self.emb_drop(self.embeds(x_cat)))
        if self.cont_embeds is not None:
            parts.append(self.cont_embeds(x_cont))
        elif self.n_cont:
            parts.append(self.bn_cont(x_cont) if self.bn_cont is not None else x_cont)
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
    """A Body whose forward takes `(x_cat, x_cont)`; its parameters form one group."""

    def __init__(self, net: EmbeddingsMLP, *, spec: ArchSpec, inputs: Mapping[str, Any], weights: str | None = None) -> None:
        super().__init__(net, spec=spec, weights=weights, n_in=0, num_features=net.num_features, feature_info=[])
        self.inputs = dict(inputs)

    def forward(self, x_cat: torch.Tensor, x_cont: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return self.net(x_cat, x_cont)


def tabular_body(
    spec: ArchSpec | None = None,
    weights: str | None = None,
    n_in: int | None = None,
    cut: int | str | None = None,
    *,
    inputs: Mapping[str, Any] | None = None,
    emb_szs: Mapping[str, int] | None = None,
    layers: Sequence[int] | None = None,
    ps: float | Sequence[float] | None = None,
    embed_p: float = 0.0,
    use_bn: bool = True,
    bn_cont: bool = True,
    lin_first: bool = True,
    cont_emb: str | None = None,
    cont_emb_dim: int = 24,
    cont_bins: Sequence[Sequence[float]] | None = None,
    cont_emb_sigma: float = 0.01,
) -> TabularBody:
    """Build the `tabular/embeddings_mlp` body for the input spec `inputs` (a `tabular/columns` spec,
    see `TabularPreprocessor.input_spec()`). `n_in` and `cut` do not apply to tables and are ignored."""
    if inputs is None or inputs.get("kind") != "tabular/columns":
        raise ConfigError(
            f"{ARCH} is built from a 'tabular/columns' input spec (the column cardinalities); got {inputs!r}. "
            "Use tabular_learner(dls), or pass inputs=dls.preprocessor.input_spec()"
        )
    if spec is None:
        from graftzoo.registry import get_arch

        spec = get_arch(ARCH)
    net = EmbeddingsMLP(
        embedding_sizes(inputs, emb_szs), int(inputs["n_cont"]), DEFAULT_LAYERS if layers is None else layers,
        ps=ps, embed_p=embed_p, use_bn=use_bn, bn_cont=bn_cont, lin_first=lin_first,
        cont_emb=cont_emb, cont_emb_dim=cont_emb_dim, cont_bins=cont_bins, cont_emb_sigma=cont_emb_sigma,
    )
    if weights is not None:
        from graftzoo.weights import load_weights

        load_weights(net, weights, spec)
    return TabularBody(net, spec=spec, inputs=inputs, weights=weights)
