"""graftzoo.learner: fastai-style training (Learner, callbacks, schedules, lr_find, checkpoints)."""

from graftzoo.learner.bn_freeze import BnFreeze
from graftzoo.learner.callback import (
    EVENTS,
    Callback,
    CancelBackwardException,
    CancelBatchException,
    CancelEpochException,
    CancelFitException,
    CancelStepException,
    CancelTrainException,
    CancelValidException,
)
from graftzoo.learner.checkpoint import load_checkpoint, save_checkpoint
from graftzoo.learner.csv_logger import CSVLogger
from graftzoo.learner.early_stopping import EarlyStoppingCallback
from graftzoo.learner.exporting import load_learner
from graftzoo.learner.freezing import freeze_groups
from graftzoo.learner.grad_accumulation import GradientAccumulation
from graftzoo.learner.gradient_clip import GradientClip
from graftzoo.learner.hypers import get_hyper, set_hyper
from graftzoo.learner.inference import GatherPreds
from graftzoo.learner.label_smoothing import LabelSmoothingCrossEntropy
from graftzoo.learner.learner import Learner, default_device
from graftzoo.learner.lr_find import LRFinder, minimum, slide, steep, valley
from graftzoo.learner.lrs import even_mults, spread_lr
from graftzoo.learner.mix_augment import CutMix, MixHandler, MixUp
from graftzoo.learner.mixed_precision import BF16, FP16, Precision
from graftzoo.learner.nan_guard import NanGuard
from graftzoo.learner.progress import ProgressCallback
from graftzoo.learner.recorder import Recorder
from graftzoo.learner.reduce_lr import ReduceLROnPlateau
from graftzoo.learner.save_model import SaveModelCallback
from graftzoo.learner.schedule import (
    ParamScheduler,
    combine_scheds,
    combined_cos,
    flat_cos_scheds,
    one_cycle_scheds,
    sched_cos,
    sched_exp,
    sched_lin,
    sgdr_scheds,
)
from graftzoo.learner.splitting import check_param_groups, resolve_param_groups
from graftzoo.learner.tracking import TrackerCallback

__all__ = [
    "BF16", "BnFreeze", "CSVLogger", "EVENTS", "EarlyStoppingCallback", "FP16", "GradientClip", "Callback", "CancelBackwardException", "CancelBatchException",
    "CancelEpochException", "CancelFitException", "CancelStepException", "CancelTrainException",
    "CancelValidException", "GatherPreds", "LRFinder", "Learner", "NanGuard", "ParamScheduler",
    "Precision", "ProgressCallback", "Recorder", "ReduceLROnPlateau", "SaveModelCallback",
    "TrackerCallback", "check_param_groups", "combine_scheds",
    "combined_cos", "default_device", "even_mults", "freeze_groups", "get_hyper", "load_checkpoint",
    "minimum", "one_cycle_scheds", "resolve_param_groups", "save_checkpoint", "sched_cos",
    "sched_exp", "sched_lin", "set_hyper", "slide", "spread_lr", "steep", "valley",
    "CutMix", "GradientAccumulation", "LabelSmoothingCrossEntropy", "MixHandler", "MixUp", "flat_cos_scheds",
    "load_learner", "sgdr_scheds",
]
