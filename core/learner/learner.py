"""Learner: a model, its data, a loss and an optimizer, trained fastai-style."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from graftzoo.adapters.trainable import has_adapters
from graftzoo.data_protocol import dls_attr
from graftzoo.errors import ConfigError
from graftzoo.learner import (
    augmented_preds, checkpoint, distributed, exporting, fit_schedules, inference, lr_find as _lr_find, results,
)
from graftzoo.learner.callback import Callback
from graftzoo.learner.freezing import freeze_groups
from graftzoo.learner.hypers import set_hyper
from graftzoo.learner.loop import TrainLoop
from graftzoo.learner.lrs import LR, spread_lr
from graftzoo.learner.mixed_precision import BF16, FP16, Precision
from graftzoo.learner.nan_guard import NanGuard
from graftzoo.learner.progress import ProgressCallback
from graftzoo.learner.recorder import Recorder
from graftzoo.learner.schedule import ParamScheduler, one_cycle_scheds
from graftzoo.learner.splitting import Splitter, resolve_param_groups
from graftzoo.learner.summary import learner_summary
from graftzoo.metrics import Metric, as_metric

__all__ = ["Learner", "default_device"]


def default_device() -> torch.device:
    """CUDA when available (`cuda:LOCAL_RANK` under torchrun), else CPU."""
    return distributed.local_device()


def _identity(x: Tensor) -> Tensor:
    return x


class Learner(TrainLoop):
    """Trains `model` on `dls` (anything with `.train` and `.valid` DataLoaders).

    A batch is a tuple whose last element is the target; the others are the model's
    inputs (`model(*xb)`). When the model has a `task` (with `loss_func()`,
    `metrics()`, `activation(out)`, `decode(probs)`), loss and metrics default from
    it. Parameter groups come from `splitter`, else `model.param_groups()`, else
    one group; they drive `freeze_to` and discriminative learning rates.
    """

    def __init__(
        self,
        dls: Any,
        model: nn.Module,
        loss_func: Callable[..., Tensor] | None = None,
        opt_func: Callable[..., torch.optim.Optimizer] = torch.optim.AdamW,
        lr: LR = 1e-3,
        splitter: Splitter | None = None,
        cbs: Iterable[Callback] | None = None,
        metrics: Sequence[Any] | Any | None = None,
        wd: float | None = None,
        train_bn: bool = True,
        path: str | Path = ".",
        model_dir: str | Path = "models",
        moms: Sequence[float] = (0.95, 0.85, 0.95),
        quiet: bool = False,
        device: str | torch.device | None = None,
    ) -> None:
        self._init_loop()
        self.dls, self.model, self.opt_func, self.lr = dls, model, opt_func, lr
        self.wd, self.train_bn, self.moms = wd, train_bn, tuple(moms)
        self.path, self.model_dir = Path(path), Path(model_dir)
        self.task = getattr(model, "task", None)
        if dls_attr(dls, "preprocessor") is not None and hasattr(model, "preprocessor"):
            model.preprocessor = dls_attr(dls, "preprocessor")  # what the model is trained on travels with it
        if loss_func is None:
            if self.task is None:
                raise ConfigError(
                    "no loss function: pass loss_func=... (e.g. nn.CrossEntropyLoss()), or give the "
                    "model a `task` that provides one."
                )
            loss_func = self.task.loss_func()
        self.loss_func = loss_func
        if metrics is None:
            metrics = self.task.metrics() if self.task is not None else []
        elif callable(metrics) or isinstance(metrics, Metric):
            metrics = [metrics]
        self.metrics: list[Metric] = [as_metric(m) for m in metrics]
        # the task's activation and decoding, else the loss's (fastai's `activation`/`decodes`), else defaults
        self.activation: Callable[[Tensor], Tensor] = (
            self.task.activation if self.task is not None else getattr(loss_func, "activation", _identity)
        )
        self.decode: Callable[[Tensor], Tensor] = (
            self.task.decode if self.task is not None else getattr(loss_func, "decodes", inference.default_decode)
        )
        self.splitter = splitter
        self.param_lists, self.has_split = resolve_param_groups(model, splitter)
        self.opt: torch.optim.Optimizer | None = None
        self.precision: Precision = Precision()
        self.channels_last = False
        self.show_bar = self.show_table = not quiet
        self.recorder = Recorder()
        self.resume_epoch = 0
        self.add_cbs([NanGuard(), self.recorder, ProgressCallback(), *(cbs or [])])
        self.dist = distributed.DistributedState()
        distributed.init_from_env()  # under torchrun: join the process group (see distributed())
        self.to(default_device() if device is None else device)

    # -- device & precision ----------------------------------------------------------
    def to(self, device: str | torch.device) -> Learner:
        """Move model, loss and optimizer state to `device`."""
        self.device = torch.device(device)
        self.model.to(self.device)
        if isinstance(self.loss_func, nn.Module):
            self.loss_func.to(self.device)
        if self.opt is not None and self.opt.state:
            self.opt.load_state_dict(self.opt.state_dict())  # casts state to the params' device
        return self

    def to_bf16(self) -> Learner:
        """Train and predict under bfloat16 autocast (CPU or CUDA)."""
        self.precision = BF16()
        return self

    def to_fp16(self) -> Learner:
        """float16 autocast with loss scaling; needs CUDA (GraftzooError otherwise)."""
        self.precision = FP16()
        return self

    def to_fp32(self) -> Learner:
        """Back to full precision."""
        self.precision = Precision()
        return self

    def to_channels_last(self) -> Learner:
        """Model and 4-d float inputs in channels_last memory format (faster convs on GPU)."""
        self.model.to(memory_format=torch.channels_last)
        self.channels_last = True
        return self

    # -- optimizer & freezing --------------------------------------------------------
    def create_opt(self) -> torch.optim.Optimizer:
        """Build `self.opt` with one param group per split group."""
        lrs = spread_lr(self.lr, len(self.param_lists))
        groups: list[dict[str, Any]] = [{"params": ps, "lr": lr} for ps, lr in zip(self.param_lists, lrs)]
        if self.wd is not None:
            for g in groups:
                g["weight_decay"] = self.wd
        self.opt = self.opt_func(groups, lr=lrs[-1])
        return self.opt

    def freeze_to(self, n: int) -> None:
        """Freeze the first `n` groups (negative counts from the end); resets optimizer state."""
        freeze_groups(self.model, self.param_lists, n, self.train_bn)
        if self.opt is not None:
            self.opt.state.clear()

    def add_adapters(self, adapters: Any) -> Any:
        """Put LoRA adapters (`graftzoo.adapters.LoRA`) on the model's body; parameter groups and optimizer are rebuilt."""
        from graftzoo.adapters.attach import add_adapters

        lora = add_adapters(self.model, adapters)
        self.model.to(self.device)
        self.param_lists, self.has_split = resolve_param_groups(self.model, self.splitter)
        self.opt = None
        return lora

    def freeze(self) -> None:
        """Freeze every group but the last (the head)."""
        self.freeze_to(-1)

    def unfreeze(self) -> None:
        """Make every group trainable."""
        self.freeze_to(0)

    # -- data parallel ---------------------------------------------------------------
    @contextlib.contextmanager
    def distributed(self, sync_bn: bool = False, find_unused_parameters: bool = False) -> Iterator[Learner]:
        """Train data-parallel inside the `with` block (automatic under torchrun; this sets options).

        Every fit wraps the model in DistributedDataParallel after freezing took effect, shards the
        data, reduces losses and metrics across ranks, and lets rank 0 alone print and write.
        `sync_bn` converts BatchNorm to SyncBatchNorm (CUDA only); without it, BatchNorm running
        statistics are averaged across ranks after every epoch. Outside torchrun, fit raises.
        """
        old = self.dist
        self.dist = distributed.DistributedState(sync_bn, find_unused_parameters, explicit=True, epochs_done=old.epochs_done)
        try:
            yield self
        finally:
            self.dist = distributed.DistributedState(epochs_done=self.dist.epochs_done)

    # -- training --------------------------------------------------------------------
    def fit(
        self, n_epoch: int, lr: LR | None = None, wd: float | None = None,
        cbs: Iterable[Callback] | None = None, reset_opt: bool = False, start_epoch: int = 0,
    ) -> None:
        """Train `n_epoch` epochs at a constant `lr` (default `self.lr`); `start_epoch` skips the first ones."""
        with self.added_cbs(cbs or []):
            if reset_opt or self.opt is None:
                self.create_opt()
            wd = self.wd if wd is None else wd
            if wd is not None:
                set_hyper(self.opt, "wd", wd)  # type: ignore[arg-type]
            set_hyper(self.opt, "lr", spread_lr(self.lr if lr is None else lr, len(self.param_lists)))  # type: ignore[arg-type]
            self._run_fit(n_epoch, start_epoch)

    def fit_one_cycle(
        self, n_epoch: int, lr_max: LR | None = None, div: float = 25.0, div_final: float = 1e5,
        pct_start: float = 0.25, wd: float | None = None, moms: Sequence[float] | None = None,
        cbs: Iterable[Callback] | None = None, reset_opt: bool = False, start_epoch: int = 0,
    ) -> None:
        """fastai's 1cycle: cosine warm-up lr_max/div -> lr_max over `pct_start`, cosine down to
        lr_max/div_final; momentum moms[0] -> moms[1] -> moms[2].

        `start_epoch=k` resumes the same schedule after `k` finished epochs (from a checkpoint
        saved during the fit: `learn.load(name)` then `start_epoch=learn.resume_epoch`)."""
        if reset_opt or self.opt is None:
            self.create_opt()
        lrs = spread_lr(self.lr if lr_max is None else lr_max, len(self.param_lists))
        scheds = one_cycle_scheds(lrs, div, div_final, pct_start, self.moms if moms is None else moms)
        self.fit(n_epoch, wd=wd, cbs=[ParamScheduler(scheds), *(cbs or [])], start_epoch=start_epoch)

    fit_flat_cos = fit_schedules.fit_flat_cos
    fit_sgdr = fit_schedules.fit_sgdr

    def fine_tune(
        self, epochs: int, base_lr: float = 2e-3, freeze_epochs: int = 1, lr_mult: float | None = None,
        pct_start: float = 0.3, div: float = 5.0, adapters: Any = None, **kwargs: Any,
    ) -> None:
        """fastai's fine_tune: train the head with the body frozen, then everything with
        discriminative learning rates (`base_lr/2/lr_mult` to `base_lr/2`; `lr_mult` default 100).

        `adapters=LoRA(r=8)` first puts LoRA adapters on the body (`add_adapters`): the unfrozen
        phase then trains the adapters, BatchNorm and the head instead of every body weight. With
        adapters (these or earlier ones) `lr_mult` defaults to 1: every group trains at `base_lr/2`,
        as fresh adapters need (see docs/peft.md)."""
        if adapters is not None:
            self.add_adapters(adapters)
        if lr_mult is None:
            lr_mult = 1.0 if has_adapters(self.model) else 100.0
        self.freeze()
        if freeze_epochs > 0:
            self.fit_one_cycle(freeze_epochs, slice(base_lr), pct_start=0.99, **kwargs)
        base_lr /= 2
        self.unfreeze()
        self.fit_one_cycle(epochs, slice(base_lr / lr_mult, base_lr), pct_start=pct_start, div=div, **kwargs)

    def lr_find(
        self, start_lr: float = 1e-7, end_lr: float = 10, num_it: int = 100, stop_div: bool = True,
        show_plot: bool = True, suggest_funcs: Sequence[Any] = ("valley", "minimum", "steep", "slide"),
        plot_path: str | Path | None = None,
    ) -> Any:
        """Learning-rate range test; returns SuggestedLRs(valley=..., minimum=..., ...) and leaves
        weights and optimizer state as they were. See `graftzoo.learner.lr_find.lr_find`.
        Under DDP it runs on rank 0 alone and every rank gets its suggestions."""
        def run() -> Any:
            return _lr_find.lr_find(self, start_lr, end_lr, num_it, stop_div, show_plot, suggest_funcs, plot_path)

        return distributed.lr_find_on_main(self, run, suggest_funcs) if distributed.is_active() else run()

    # -- evaluation ------------------------------------------------------------------
    def validate(self, dl: Any = None) -> list[float | None]:
        """`[loss, *metrics]` over `dl` (default: the validation set)."""
        self.precision.check_device(self.device)
        try:
            self._do_epoch_validate(dl)
        finally:
            self._end_cleanup()
        return list(self.recorder.valid_values)

    get_preds = inference.get_preds
    tta = augmented_preds.tta

    def predict(self, item: Any) -> tuple[Any, Tensor, Tensor]:
        """`(label, decoded index, probabilities)` for one item."""
        return inference.predict(self, item)

    # -- looking at the model --------------------------------------------------------
    def summary(self, show: bool = True) -> str:
        """fastai's summary: each layer's output shape on one batch, its parameters and whether they
        train, then totals and the frozen groups; printed (unless `show=False`) and returned."""
        text = learner_summary(self)
        if show:
            print(text)
        return text

    show_results = results.show_results

    # -- sharing ---------------------------------------------------------------------
    def save_head(self, folder: str | Path, **kwargs: Any) -> Path:
        """Save the trained head as an artifact folder (see `graftzoo.artifacts.save_head`)."""
        from graftzoo.artifacts import save_head

        return distributed.on_main(lambda: save_head(self, folder, **kwargs), Path(folder))  # rank 0 writes

    def push_head(self, repo_id: str, hub: str | None = None, private: bool = False, commit_message: str | None = None) -> Any:
        """Save the head and push it to a hub in one commit (the local hub unless `hub` or an `hf://` repo says otherwise)."""
        from graftzoo.artifacts import push_head

        push = lambda: push_head(self, repo_id, hub=hub, private=private, commit_message=commit_message)  # noqa: E731
        return distributed.on_main(push, None)  # rank 0 pushes; other ranks get None

    export = exporting.export

    # -- checkpoints -----------------------------------------------------------------
    def _file(self, name: str | Path) -> Path:
        p = self.path / self.model_dir / name
        return p if p.suffix == ".safetensors" else p.with_name(p.name + ".safetensors")

    def save(self, name: str | Path, with_opt: bool = True) -> Path:
        """Write model (and optimizer) state to `path/model_dir/name.safetensors` atomically
        (under DDP: rank 0 writes, every rank waits until it has).

        Saved during a fit, the checkpoint also records how many epochs of it were done."""
        position = {"epochs_done": self.epochs_done, "n_epoch": self.n_epoch} if self.in_fit else None

        def write() -> Path:
            return checkpoint.save_checkpoint(self._file(name), self.model, self.opt if with_opt else None, position=position)

        return distributed.on_main(write, self._file(name))

    def load(self, name: str | Path, with_opt: bool = True, strict: bool = True) -> Learner:
        """Restore what `save` wrote (the optimizer is created if needed); a damaged file changes nothing.

        `self.resume_epoch` becomes the epochs the checkpoint's fit had done (0 if saved outside a fit)."""
        if with_opt and self.opt is None:
            self.create_opt()
        path = self._file(name)
        checkpoint.load_checkpoint(path, self.model, self.opt if with_opt else None, strict=strict)
        self.resume_epoch = checkpoint.saved_position(path).get("epochs_done", 0)
        return self

    # -- callbacks & display ---------------------------------------------------------
    def add_cb(self, cb: Callback | type[Callback]) -> Learner:
        """Add one callback."""
        self.add_cbs([cb])
        return self

    def remove_cb(self, cb: Callback) -> Learner:
        """Remove one callback."""
        self.remove_cbs([cb])
        return self

    @contextlib.contextmanager
    def added_cbs(self, cbs: Iterable[Callback]) -> Iterator[Learner]:
        """Callbacks present only inside the `with` block."""
        cbs = list(cbs)
        self.add_cbs(cbs)
        try:
            yield self
        finally:
            self.remove_cbs(cbs)

    @contextlib.contextmanager
    def removed_cbs(self, cbs: Iterable[Callback]) -> Iterator[Learner]:
        """Callbacks absent inside the `with` block (put back afterwards)."""
        cbs = [cb for cb in cbs if cb in self.cbs]
        self.remove_cbs(cbs)
        try:
            yield self
        finally:
            self.add_cbs(cbs)

    @contextlib.contextmanager
    def _display(self, bar: bool | None, table: bool | None) -> Iterator[Learner]:
        old = self.show_bar, self.show_table
        self.show_bar = old[0] if bar is None else bar
        self.show_table = old[1] if table is None else table
        try:
            yield self
        finally:
            self.show_bar, self.show_table = old

    def quiet(self) -> contextlib.AbstractContextManager[Learner]:
        """No progress bar and no epoch table inside the `with` block."""
        return self._display(False, False)

    def no_bar(self) -> contextlib.AbstractContextManager[Learner]:
        """No progress bar inside the `with` block."""
        return self._display(False, None)

    def no_logging(self) -> contextlib.AbstractContextManager[Learner]:
        """No epoch table inside the `with` block."""
        return self._display(None, False)

    def __repr__(self) -> str:
        return (
            f"Learner(model={type(self.model).__name__}, groups={len(self.param_lists)}, "
            f"device={self.device}, precision={self.precision.name})"
        )
