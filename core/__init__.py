"""graftzoo: transfer learning as a registry.

Cut a pretrained body, graft a head, fine-tune with discriminative learning rates, and share the
trained head. `import graftzoo` is light: torch, torchvision, timm and plugins load only when a
name that needs them is first used.
"""

from __future__ import annotations

from graftzoo.lazy import lazy_exports

__version__ = "0.1.0"

# public name -> module that defines it (imported on first access)
_LAZY = {
    "GraftzooError": "graftzoo.errors",
    "ArchSpec": "graftzoo.spec",
    "HeadSpec": "graftzoo.spec",
    "TaskSpec": "graftzoo.spec",
    "WeightSourceSpec": "graftzoo.spec",
    "archs": "graftzoo.registry",
    "heads": "graftzoo.registry",
    "tasks": "graftzoo.registry",
    "weight_sources": "graftzoo.registry",
    "get_arch": "graftzoo.registry",
    "plugins": "graftzoo.registry",
    "Body": "graftzoo.body",
    "Head": "graftzoo.head",
    "Task": "graftzoo.task",
    "Splitter": "graftzoo.splitter",
    "check_split": "graftzoo.splitter",
    "WeightSource": "graftzoo.weights",
    "GraftedModel": "graftzoo.grafting",
    "create_body": "graftzoo.grafting",
    "graft": "graftzoo.grafting",
    "from_config": "graftzoo.grafting",
    "InputSpec": "graftzoo.inputs",
    "Preprocessor": "graftzoo.preprocessor",
    "preprocessor_class": "graftzoo.preprocessor",
    "ModelConfig": "graftzoo.model_config",
    "assemble": "graftzoo.assembly",
    "DataLoaders": "graftzoo.data_protocol",
    "Learner": "graftzoo.learner",
    "save_head": "graftzoo.artifacts",
    "load_head": "graftzoo.artifacts",
    "push_head": "graftzoo.artifacts",
    "pull_head": "graftzoo.artifacts",
    "describe_artifact": "graftzoo.artifacts",
    "Callback": "graftzoo.learner",
    "EarlyStoppingCallback": "graftzoo.learner",
    "SaveModelCallback": "graftzoo.learner",
    "ReduceLROnPlateau": "graftzoo.learner",
    "CSVLogger": "graftzoo.learner",
    "GradientClip": "graftzoo.learner",
    "GradientAccumulation": "graftzoo.learner",
    "MixUp": "graftzoo.learner",
    "CutMix": "graftzoo.learner",
    "LabelSmoothingCrossEntropy": "graftzoo.learner",
    "load_learner": "graftzoo.learner",
    "LoRA": "graftzoo.adapters",
    "accuracy": "graftzoo.metrics",
    "error_rate": "graftzoo.metrics",
    "top_k_accuracy": "graftzoo.metrics",
    "F1Score": "graftzoo.metrics",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_exports('graftzoo', globals(), _LAZY)
