"""Run under `torchrun --nproc_per_node=2` (or plainly, for the one-process baseline): trains tiny
models and writes what each rank saw to `OUT/rank<R>.json` for test_ddp.py to assert on.

Usage: python ddp_checks.py OUT {checks,single,fail}
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from graftzoo.errors import ConfigError
from graftzoo.learner import Callback, Learner
from graftzoo.learner import distributed as ddp
from graftzoo.metrics import F1Score, accuracy

torch.set_num_threads(1)
ARCH = os.environ.get("DDP_CHECKS_ARCH", "timm/test_convnext")  # the smallest registered CNN body


class Task:
    """Cross-entropy classification with accuracy and a corpus-level F1."""

    def loss_func(self) -> nn.Module:
        return nn.CrossEntropyLoss()

    def metrics(self) -> list[Any]:
        return [accuracy, F1Score()]

    def activation(self, out: torch.Tensor) -> torch.Tensor:
        return out.softmax(dim=-1)

    def decode(self, probs: torch.Tensor) -> torch.Tensor:
        return probs.argmax(dim=-1)


class Net(nn.Module):
    """Three parameter groups (two body stages, a head) so gradual unfreezing has steps; BN optional."""

    def __init__(self, bn: bool = True) -> None:
        super().__init__()
        torch.manual_seed(1)
        norm: nn.Module = nn.BatchNorm1d(16) if bn else nn.Identity()
        self.stage1 = nn.Sequential(nn.Linear(4, 16), norm, nn.ReLU())
        self.stage2 = nn.Sequential(nn.Linear(16, 16), nn.ReLU())
        self.head = nn.Linear(16, 3)
        self.task = Task()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stage2(self.stage1(x)))

    def param_groups(self) -> list[list[nn.Parameter]]:
        return [list(self.stage1.parameters()), list(self.stage2.parameters()), list(self.head.parameters())]


class Indexed(Dataset):
    """Sample i is (x_i, y_i) with x_i[0, ...] carrying i in its last feature (for coverage checks)."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.x[i], torch.tensor(i), self.y[i]


class Dls:
    def __init__(self, train: DataLoader, valid: DataLoader, seed: int = 0) -> None:
        self.train, self.valid, self.seed = train, valid, seed


def data(bs: int, shuffle: bool, n_train: int = 32, n_valid: int = 13) -> Dls:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n_train + n_valid, 4, generator=g)
    y = ((x[:, 0] > 0).long() + (x[:, 1] > 0.5).long())
    train = DataLoader(TensorDataset(x[:n_train], y[:n_train]), batch_size=bs, shuffle=shuffle)
    valid = DataLoader(TensorDataset(x[n_train:], y[n_train:]), batch_size=4)
    return Dls(train, valid)


class IndexNet(Net):
    def forward(self, x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return super().forward(x)


class SeenIndices(Callback):
    def __init__(self) -> None:
        self.seen: list[list[int]] = []

    def before_epoch(self) -> None:
        self.seen.append([])

    def before_batch(self) -> None:
        if self.learn.training:
            self.seen[-1].extend(int(i) for i in self.learn.xb[1])


def state(model: nn.Module) -> dict[str, list[float]]:
    return {k: v.detach().double().reshape(-1).tolist() for k, v in model.state_dict().items()}


def learner(dls: Any, model: nn.Module, path: Path, **kw: Any) -> Learner:
    return Learner(dls, model, path=path, device="cpu", quiet=False, **kw)


def checks(out: Path) -> dict[str, Any]:
    ddp.init_from_env()  # a Learner would do it too; the rank is needed before the first one
    r = ddp.rank()
    res: dict[str, Any] = {"rank": r, "world_size": ddp.world_size()}
    # 1. coverage: 32 samples, shuffled, 2 epochs; each epoch every sample once across ranks
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 4, generator=g)
    cov = Dls(DataLoader(Indexed(x, torch.zeros(32, dtype=torch.long)), batch_size=4, shuffle=True), None)  # type: ignore[arg-type]
    seen = SeenIndices()
    learn = learner(cov, IndexNet(), out / "shared", cbs=[seen], metrics=[])
    with contextlib.redirect_stdout(io.StringIO()):
        learn.fit(2, lr=1e-2)
    res["seen"] = seen.seen

    # 2. gradual unfreezing + fine_tune, BN model, metrics; stdout captured to see who prints
    learn = learner(data(bs=4, shuffle=True), Net(), out / "shared")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        learn.freeze_to(2)
        learn.fit_one_cycle(1, 1e-2)
        learn.freeze_to(1)
        learn.fit_one_cycle(1, slice(1e-3, 1e-2))
        learn.fine_tune(1, base_lr=1e-2)
    res["printed"] = printed.getvalue()
    res["state"] = state(learn.model)
    res["valid_in_fit"] = learn.recorder.values[-1][1:]
    res["train_loss"] = learn.recorder.values[-1][0]
    res["valid_alone"] = learn.validate()  # unsharded, same weights: the one-process numbers
    res["wrapped_after_fit"] = learn.wrapped_model is not None
    res["rank_losses"] = learn.recorder.raw_losses

    # 3. checkpoint written by rank 0, resumed on every rank
    ckpt = learn.save("ckpt")
    resumed = learner(data(bs=4, shuffle=True), Net(), out / "shared").load("ckpt")
    res["loaded_equal"] = state(resumed.model) == res["state"]
    with contextlib.redirect_stdout(io.StringIO()):
        resumed.fit(1, lr=1e-3)
    res["resumed_state"] = state(resumed.model)
    res["ckpt_exists"] = ckpt.exists()

    # 4. who writes: per-rank folders; only rank 0's gets the checkpoint and the lr_find plot
    own = out / f"own{r}"
    solo = learner(data(bs=4, shuffle=True), Net(), own)
    solo.save("mine")
    sugg = solo.lr_find(num_it=12, plot_path=own / "lr_find.png")
    res["suggestion"] = list(sugg)
    res["own_files"] = sorted(str(p.relative_to(own)) for p in own.rglob("*") if p.is_file())

    # 5. loss curve with no BatchNorm, no shuffling: compared with one process at the same global batch
    res["same_batch_losses"] = same_batch_losses(out, bs=4)

    # 6. the vision tasks: U-Net segmentation and Siamese pairs (a sampler of its own)
    res["tasks"] = vision_tasks(out / "shared")

    # 7. metric states reduced directly: rank 0 holds 7 samples, rank 1 holds 4 (or none)
    res["metric_reduce"] = metric_reduce()

    # 8. gradient accumulation: batches of 2 per rank accumulated to 4, against one process at batch 8
    res["accumulated"] = accumulated(out, bs=2, n_acc=4)

    # 9. clean refusals
    try:
        with solo.distributed(sync_bn=True):
            solo.fit(1)
        res["sync_bn_cpu"] = "no error"
    except ConfigError as exc:
        res["sync_bn_cpu"] = str(exc)
    return res


def vision_tasks(path: Path) -> dict[str, Any]:
    """Replicas and reduced validation of unet and siamese learners (xresnet18, random init, 32 px)."""
    from graftzoo_vision.data.segmentation import SegmentationDataLoaders
    from graftzoo_vision.data.siamese import SiameseDataLoaders
    from graftzoo_vision.siamese_training import siamese_learner
    from graftzoo_vision.unet_training import unet_learner

    g = torch.Generator().manual_seed(0)
    masks = torch.zeros(20, 32, 32, dtype=torch.long)
    for i in range(20):
        a = int(torch.randint(0, 20, (1,), generator=g))
        masks[i, a : a + 6, 4:-4] = 1
    images = (masks * 120 + torch.randint(0, 60, (20, 32, 32), generator=g)).to(torch.uint8)[:, None].expand(-1, 3, -1, -1).contiguous()
    seg = SegmentationDataLoaders.from_tensors(images, masks, codes=["bg", "bar"], seed=0, size=32, bs=4)
    labels = torch.arange(20) % 4
    pairs = SiameseDataLoaders.from_tensors(images, labels, seed=0, size=32, bs=4, augment=False)
    out: dict[str, Any] = {}
    for name, learn in (("unet", unet_learner(seg, ARCH, weights=None, path=path, quiet=True)),
                        ("siamese", siamese_learner(pairs, ARCH, weights=None, path=path, quiet=True))):
        learn.fit(1, lr=1e-3)
        out[name] = {"state": state(learn.model), "valid_in_fit": learn.recorder.values[-1][1:],
                     "valid_alone": learn.validate()}
    return out


def metric_reduce() -> dict[str, list[float | None]]:
    """[reduced over ranks, one process on every rank's data] for each metric."""
    from graftzoo.learner.reduction import reduce_metric
    from graftzoo.metrics import RMSE, AvgMetric, F1Score, RocAuc
    from graftzoo_vision.segmentation import Dice, MeanIoU

    g = torch.Generator().manual_seed(5)
    cls = [(torch.randn(n, 3, generator=g), torch.randint(0, 3, (n,), generator=g)) for n in (7, 4)]
    seg = [(torch.randn(n, 3, 6, 6, generator=g), torch.randint(0, 3, (n, 6, 6), generator=g)) for n in (3, 2)]
    reg = [(torch.randn(n, generator=g), torch.randn(n, generator=g)) for n in (7, 4)]
    cases = [(AvgMetric(accuracy), cls), (F1Score(), cls), (RocAuc(), cls), (RMSE(), reg), (Dice(), seg),
             (MeanIoU(), seg), (MeanIoU(), seg[:1])]  # the last: rank 1 saw no batch at all
    out = {}
    for i, (make, chunks) in enumerate(cases):
        mine, whole = type(make)(make.func) if isinstance(make, AvgMetric) else type(make)(), make
        whole.reset()
        for k, (p, t) in enumerate(chunks):
            whole.accumulate(p, t)
            if k == ddp.rank():
                mine.accumulate(p, t)
        reduce_metric(mine)
        out[f"{i}:{make.name}"] = [mine.value, whole.value]
    return out


def same_batch_losses(out: Path, bs: int) -> list[float]:
    learn = learner(data(bs=bs, shuffle=False), Net(bn=False), out / "shared", opt_func=torch.optim.SGD)
    with contextlib.redirect_stdout(io.StringIO()):
        learn.fit(2, lr=0.1)
    return learn.recorder.raw_losses


class GradSyncProbe(Callback):
    """After each backward: are the gradients the same on every rank (all-reduced) or still local? And the steps."""

    def __init__(self) -> None:
        self.synced: list[bool] = []
        self.steps = 0

    def after_backward(self) -> None:
        if self.learn.wrapped_model is None:
            return
        import torch.distributed as dist

        grad = torch.cat([p.grad.reshape(-1) for p in self.learn.model.parameters() if p.grad is not None])
        everyone = [torch.empty_like(grad) for _ in range(dist.get_world_size())]
        dist.all_gather(everyone, grad)
        self.synced.append(all(torch.equal(everyone[0], g) for g in everyone[1:]))

    def after_step(self) -> None:
        self.steps += 1


def accumulated(out: Path, bs: int, n_acc: int | None = None) -> dict[str, Any]:
    """Weights after one epoch of SGD (no BatchNorm, no shuffling), with GradientAccumulation when `n_acc`."""
    from graftzoo.learner import GradientAccumulation

    probe = GradSyncProbe()
    cbs = [probe] + ([GradientAccumulation(n_acc)] if n_acc else [])
    torch.manual_seed(0)
    learn = learner(data(bs=bs, shuffle=False), Net(bn=False), out / "shared", opt_func=torch.optim.SGD, cbs=cbs)
    with contextlib.redirect_stdout(io.StringIO()):
        learn.fit(1, lr=0.1)
    return {"state": state(learn.model), "synced": probe.synced, "steps": probe.steps}


class FailOnRank1(Callback):
    def after_batch(self) -> None:
        if ddp.rank() == 1 and self.learn.train_iter == 2:
            raise RuntimeError("rank 1 broke on purpose")


def main() -> None:
    out, mode = Path(sys.argv[1]), sys.argv[2]
    ddp.init_from_env()
    res: dict[str, Any]
    if mode == "single":
        res = {"same_batch_losses": same_batch_losses(out, bs=8), "accumulated": accumulated(out, bs=8)}
    elif mode == "fail":
        learn = learner(data(bs=4, shuffle=True), Net(), out / "shared", cbs=[FailOnRank1()])
        learn.fit(50, lr=1e-3)
        res = {"finished": True}
    else:
        res = checks(out)
    (out / f"{mode}-rank{ddp.rank()}.json").write_text(json.dumps(res))


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
