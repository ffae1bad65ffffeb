"""Data-parallel training under `torchrun`: the process group, who writes, and the per-fit DDP wrap.

A Learner started by `torchrun` (`WORLD_SIZE` > 1) joins the process group from `env://` (NCCL on
CUDA, one device per `LOCAL_RANK`; gloo on CPU). Every `fit` then wraps the model in
`DistributedDataParallel` *after* freezing took effect and unwraps it when the fit ends, shards the
data (`graftzoo.learner.sharding`), reduces losses and metrics exactly (`graftzoo.learner.reduction`)
and lets rank 0 alone print and write. One process: every function here is a no-op.
"""

from __future__ import annotations

import atexit
import contextlib
import os
from collections import namedtuple
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.parallel import DistributedDataParallel

from graftzoo.errors import ConfigError, TrainingError
from graftzoo.learner.callback import Callback
from graftzoo.learner.reduction import check_reducible, comm_device, reduce_metric, reduce_sums
from graftzoo.learner.sharding import shard_loaders

if TYPE_CHECKING:
    from graftzoo.learner.learner import Learner

__all__ = [
    "DDPCallback", "DistributedState", "barrier", "data_parallel", "env_world_size", "init_from_env",
    "is_active", "is_main", "local_device", "lr_find_on_main", "main_first", "on_main", "rank", "world_size",
]

T = TypeVar("T")
TIMEOUT_ENV = "GRAFTZOO_DIST_TIMEOUT"  # seconds a collective may wait before the run fails (default 1800)


# -- the process group -------------------------------------------------------------------------------
def env_world_size() -> int:
    """`WORLD_SIZE` as torchrun sets it (1 when not launched by torchrun)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        raise ConfigError(f"WORLD_SIZE={os.environ['WORLD_SIZE']!r} is not an integer; launch with torchrun.") from None


def is_active() -> bool:
    """Whether this process is one of several in an initialized process group."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's rank (0 in one process)."""
    return dist.get_rank() if is_active() else 0


def world_size() -> int:
    """How many processes train together (1 in one process)."""
    return dist.get_world_size() if is_active() else 1


def is_main() -> bool:
    """Whether this is rank 0, the one that prints, writes and pushes."""
    return rank() == 0


def local_device() -> torch.device:
    """`cuda:LOCAL_RANK` under torchrun with CUDA, `cuda` in one process with CUDA, else CPU."""
    if not torch.cuda.is_available():
        return torch.device("cpu")
    local = os.environ.get("LOCAL_RANK")
    return torch.device("cuda", int(local)) if local is not None and env_world_size() > 1 else torch.device("cuda")


def _timeout() -> timedelta:
    raw = os.environ.get(TIMEOUT_ENV, "1800")
    try:
        return timedelta(seconds=float(raw))
    except ValueError:
        raise ConfigError(f"{TIMEOUT_ENV}={raw!r} must be a number of seconds.") from None


def init_from_env() -> bool:
    """Join the process group torchrun describes (`env://`); True when this call created it.

    NCCL when CUDA is available (this process then uses `cuda:LOCAL_RANK`), gloo otherwise.
    Collectives wait at most `GRAFTZOO_DIST_TIMEOUT` seconds, so a lost peer ends the run.
    """
    if env_world_size() <= 1 or (dist.is_available() and dist.is_initialized()):
        return False
    if not dist.is_available():
        raise ConfigError("WORLD_SIZE > 1 but this torch build has no torch.distributed; train in one process.")
    missing = [v for v in ("RANK", "MASTER_ADDR", "MASTER_PORT") if v not in os.environ]
    if missing:
        raise ConfigError(f"WORLD_SIZE is set but {missing} are not: launch with `torchrun` (python -m torch.distributed.run).")
    device = local_device()
    if device.type == "cuda":
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend, init_method="env://", timeout=_timeout())
    atexit.register(_destroy)
    return True


def _destroy() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    """Wait for every rank (no-op in one process)."""
    if is_active():
        dist.barrier()


def on_main(fn: Callable[[], T], default: T) -> T:
    """Run `fn` on rank 0 only, then wait for every rank, so no rank reads before rank 0 wrote.

    Other ranks return `default`. Call it on every rank (it is a collective).
    """
    if not is_active():
        return fn()
    result = fn() if is_main() else default
    dist.barrier()
    return result


@contextlib.contextmanager
def main_first() -> Iterator[None]:
    """Rank 0 runs the block first (filling download caches), the other ranks after it finished."""
    if is_active() and not is_main():
        dist.barrier()
    yield
    if is_active() and is_main():
        dist.barrier()


# -- per-fit wrapping -------------------------------------------------------------------------------
@dataclass
class DistributedState:
    """A Learner's data-parallel settings (defaults: automatic under torchrun, no SyncBatchNorm)."""

    sync_bn: bool = False
    find_unused_parameters: bool = False
    explicit: bool = False  # set by `learn.distributed()`: refuse to train in one process
    paused: bool = False  # rank 0 trains alone (lr_find)
    epochs_done: int = 0  # seeds DistributedSampler.set_epoch across fits


def _average_bn_stats(model: nn.Module) -> None:
    """Average BatchNorm running statistics across ranks (each rank saw other batches)."""
    bufs = [b for m in model.modules() if isinstance(m, _BatchNorm) and m.track_running_stats
            for b in (m.running_mean, m.running_var) if b is not None]
    if not bufs:
        return
    flat = torch.cat([b.detach().reshape(-1).to(comm_device(), torch.float64) for b in bufs])
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    i = 0
    for b in bufs:
        b.copy_(flat[i : i + b.numel()].view_as(b))
        i += b.numel()


def _set_epoch(dl: Any, epoch: int) -> None:
    """`set_epoch` on the loader itself (tensor-slicing loaders) or on its sampler (torch DataLoader)."""
    for target in (dl, getattr(dl, "sampler", None), getattr(getattr(dl, "batch_sampler", None), "sampler", None)):
        f = getattr(target, "set_epoch", None)
        if callable(f):
            f(epoch)
            return


class DDPCallback(Callback):
    """Added for the length of a distributed fit: reshuffles shards per epoch, averages the
    training loss and BatchNorm statistics, and reduces validation loss and metrics exactly
    (before the Recorder reads them)."""

    order = 45  # before Recorder (50) and ProgressCallback (60)

    def __init__(self, state: DistributedState) -> None:
        self.state = state

    def before_train(self) -> None:
        _set_epoch(self.learn.dl, self.state.epochs_done)
        if self.learn.wrapped_model is not None:
            self.learn.wrapped_model.train()

    def after_batch(self) -> None:
        learn = self.learn
        if not learn.training or learn.loss is None:
            return
        loss = learn.loss.detach().float().mean().reshape(1).to(comm_device())
        dist.all_reduce(loss)
        learn.loss = (loss / dist.get_world_size()).to(learn.device).reshape(())

    def after_train(self) -> None:
        self.state.epochs_done += 1
        _average_bn_stats(self.learn.model)

    def after_validate(self) -> None:
        rec = self.learn.recorder
        rec._vloss, rec._vcount = reduce_sums([rec._vloss, rec._vcount])
        for m in self.learn.metrics:
            reduce_metric(m)


def _sync_bn(model: nn.Module, device: torch.device) -> nn.Module:
    if device.type != "cuda":
        raise ConfigError(
            "sync_bn=True needs CUDA (torch's SyncBatchNorm refuses CPU modules); on CPU leave it off: "
            "BatchNorm running statistics are then averaged across ranks after every epoch."
        )
    return nn.SyncBatchNorm.convert_sync_batchnorm(model)  # keeps the same Parameter objects


@contextlib.contextmanager
def data_parallel(learn: Learner) -> Iterator[None]:
    """For the length of one fit: sharded data, the model wrapped in DDP, rank 0 alone printing.

    A no-op in one process (raises if `learn.distributed()` asked for several) or while `paused`.
    """
    state = learn.dist
    init_from_env()
    if state.paused or not is_active():
        if state.explicit and not state.paused:
            raise ConfigError("learn.distributed() needs several processes: launch the script with torchrun --nproc_per_node=N.")
        yield
        return
    for m in learn.metrics:
        check_reducible(m)
    if state.sync_bn and not any(isinstance(m, nn.SyncBatchNorm) for m in learn.model.modules()):
        learn.model = _sync_bn(learn.model, learn.device)
    if not any(p.requires_grad for p in learn.model.parameters()):
        raise ConfigError("every parameter is frozen, so there is nothing to train: unfreeze some groups first.")
    base = learn.dls
    learn.dls = shard_loaders(base, rank(), world_size())
    ids = [learn.device.index if learn.device.index is not None else torch.cuda.current_device()] if learn.device.type == "cuda" else None
    learn.wrapped_model = DistributedDataParallel(
        learn.model, device_ids=ids, forward_sync_buffers=False, find_unused_parameters=state.find_unused_parameters
    )
    cb = DDPCallback(state)
    display = learn.quiet() if not is_main() else contextlib.nullcontext()
    learn.add_cbs([cb])
    try:
        with display:
            yield
    finally:
        learn.remove_cbs([cb])
        learn.wrapped_model = None
        learn.dls = base


def lr_find_on_main(learn: Learner, run: Callable[[], Any], suggest_funcs: Sequence[Any]) -> Any:
    """Run the lr finder on rank 0 alone (its data unsharded), broadcast the suggestions to every rank.

    If it fails on rank 0, every rank raises (rank 0 its own error), so no rank waits forever.
    """
    names = [f if isinstance(f, str) else getattr(f, "__name__", "suggestion") for f in suggest_funcs]
    payload = torch.zeros(1 + len(names), dtype=torch.float64, device=comm_device())
    result: Any = None
    error: BaseException | None = None
    if is_main():
        learn.dist.paused = True
        try:
            result = run()
            payload[0] = 1.0
            if result is not None:
                payload[1:] = torch.tensor([float(v) for v in result], dtype=torch.float64)
        except Exception as exc:  # broadcast the failure first, then re-raise it below
            error = exc
        finally:
            learn.dist.paused = False
    dist.broadcast(payload, src=0)
    if error is not None:
        raise error
    if payload[0].item() != 1.0:
        raise TrainingError("lr_find failed on rank 0 (its error is in rank 0's output); this rank stops too.")
    if is_main() or not names:
        return result
    return namedtuple("SuggestedLRs", names)(*payload[1:].tolist())
