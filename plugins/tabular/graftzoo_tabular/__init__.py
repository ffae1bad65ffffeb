"""graftzoo-tabular: tables preprocessed once into tensors, fastai's TabularModel as body + head.

Names load on first use, so `import graftzoo_tabular` stays light.
"""

from __future__ import annotations

from graftzoo.lazy import lazy_exports

_LAZY = {
    "TabularDataLoaders": "graftzoo_tabular.loaders",
    "TabularPreprocessor": "graftzoo_tabular.preprocessor",
    "Categorify": "graftzoo_tabular.procs",
    "FillMissing": "graftzoo_tabular.procs",
    "Normalize": "graftzoo_tabular.procs",
    "TargetEncoder": "graftzoo_tabular.targets",
    "TensorBatches": "graftzoo_tabular.batches",
    "infer_columns": "graftzoo_tabular.columns",
    "emb_sz_rule": "graftzoo_tabular.embeddings",
    "ColumnEmbeddings": "graftzoo_tabular.embeddings",
    "EmbeddingsMLP": "graftzoo_tabular.body",
    "TabularBody": "graftzoo_tabular.body",
    "tabular_body": "graftzoo_tabular.body",
    "embedding_sizes": "graftzoo_tabular.body",
    "TabularLinearHead": "graftzoo_tabular.head",
    "linear_head": "graftzoo_tabular.head",
    "tabular_model": "graftzoo_tabular.model",
    "tabular_learner": "graftzoo_tabular.learner",
    "tabular_config": "graftzoo_tabular.learner",
    "LeanAdamW": "graftzoo_tabular.optimizer",
    "TableError": "graftzoo_tabular.errors",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY)
