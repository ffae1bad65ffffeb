"""The plugin SDK: everything a plugin may import from graftzoo, in one declared place.

Plugins import from here (`from graftzoo.sdk import Body, cut_model, ...`); names outside `__all__`
are internals that may change without notice. See docs/plugins.md for how each part is used.
"""

from __future__ import annotations

from graftzoo.body import Body, stage_children
from graftzoo.building import STEPS, adapt_channels, build_network, create_body, cut_body
from graftzoo.cutting import cut_model, registered_cut
from graftzoo.data_protocol import DataLoaders, dls_attr
from graftzoo.data_section import check_section
from graftzoo.errors import ConfigError, GraftzooError, SplitError, WeightsError
from graftzoo.first_layer import adapt_first_conv, first_conv
from graftzoo.head import Head, check_json_kwargs
from graftzoo.imports import import_attr
from graftzoo.inputs import InputSpec
from graftzoo.preprocessor import Preprocessor, model_preprocessor, preprocessor_class
from graftzoo.spec import ArchSpec, HeadSpec, TaskSpec
from graftzoo.splitter import Splitter, check_split, split_by_names, split_children
from graftzoo.task import Task
from graftzoo.weights import StateDict, WeightSource, load_weights, read_state_dict, source_state_dict, split_ref

__all__ = [
    "STEPS",
    "ArchSpec",
    "Body",
    "ConfigError",
    "DataLoaders",
    "GraftzooError",
    "Head",
    "HeadSpec",
    "InputSpec",
    "Preprocessor",
    "SplitError",
    "Splitter",
    "StateDict",
    "Task",
    "TaskSpec",
    "WeightSource",
    "WeightsError",
    "adapt_channels",
    "adapt_first_conv",
    "build_network",
    "check_json_kwargs",
    "check_section",
    "check_split",
    "create_body",
    "cut_body",
    "cut_model",
    "dls_attr",
    "first_conv",
    "import_attr",
    "load_weights",
    "model_preprocessor",
    "preprocessor_class",
    "read_state_dict",
    "registered_cut",
    "source_state_dict",
    "split_by_names",
    "split_children",
    "split_ref",
    "stage_children",
]
