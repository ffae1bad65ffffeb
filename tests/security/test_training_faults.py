"""Training faults lose nothing: a NaN batch leaves the model as it was, a damaged checkpoint loads nothing.

A small CNN with BatchNorm trains under the Learner on tiny images; faults are real (NaN/inf pixels in
one batch, checkpoint files truncated, overwritten or rewritten with forged metadata and tensors).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from graftzoo.errors import GraftzooError, TrainingError
from graftzoo.learner import Callback, Learner

BATCH = 8
N_BATCHES = 4


class SmallCnn(nn.Module):
    """conv -> BatchNorm -> ReLU -> pool -> linear: 7 state tensors, 3 of them BatchNorm buffers."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))

    def param_groups(self) -> list[list[nn.Parameter]]:
        return [list(self.body.parameters()), list(self.head.parameters())]


class Dls:
    def __init__(self, train: DataLoader, valid: DataLoader) -> None:
        self.train, self.valid = train, valid


def images(poison_batch: int | None = None, value: float = float("nan")) -> Dls:
    """N_BATCHES training batches of 8x8 RGB images; `poison_batch` has two pixels set to `value`."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(N_BATCHES * BATCH, 3, 8, 8, generator=g)
    y = (x[:, 0].mean(dim=(1, 2)) > 0.5).long()
    if poison_batch is not None:
        x[poison_batch * BATCH, 0, 2, 3] = value
        x[poison_batch * BATCH + 1, 1, 5, 5] = value
    train = DataLoader(TensorDataset(x, y), batch_size=BATCH)
    valid = DataLoader(TensorDataset(x[:BATCH].nan_to_num(0.5), y[:BATCH]), batch_size=BATCH)
    return Dls(train, valid)


def make_learner(tmp_path: Path, dls: Dls | None = None) -> Learner:
    torch.manual_seed(0)
    return Learner(dls or images(), SmallCnn(), loss_func=nn.CrossEntropyLoss(), lr=1e-2, quiet=True, path=tmp_path, device="cpu")


class StateBeforeEachBatch(Callback):
    """Keeps a copy of the whole state dict as it is before each training batch (runs before NanGuard)."""

    order = -20
    run_valid = False

    def __init__(self) -> None:
        self.state: dict[str, torch.Tensor] = {}

    def before_batch(self) -> None:
        self.state = {k: v.detach().clone() for k, v in self.learn.model.state_dict().items()}


def changed(before: dict[str, torch.Tensor], model: nn.Module) -> list[str]:
    after = model.state_dict()
    assert before.keys() == after.keys()
    return [k for k in before if not torch.equal(before[k], after[k])]


# -- NaN in a batch --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [float("nan"), float("inf")], ids=["nan-pixels", "inf-pixels"])
@pytest.mark.parametrize("poison_batch", [0, 2])
def test_a_nan_batch_leaves_every_tensor_as_it_was(tmp_path: Path, poison_batch: int, value: float) -> None:
    """The stopped batch used to change the BatchNorm buffers (running stats became NaN)."""
    learn = make_learner(tmp_path, images(poison_batch, value))
    before = StateBeforeEachBatch()
    with pytest.raises(TrainingError, match=rf"batch {poison_batch} .*as it was after the previous batch"):
        learn.fit(1, cbs=[before])
    assert changed(before.state, learn.model) == []
    assert all(torch.isfinite(v).all() for v in learn.model.state_dict().values())


def test_training_goes_on_from_the_restored_model(tmp_path: Path) -> None:
    learn = make_learner(tmp_path, images(2))
    with pytest.raises(TrainingError):
        learn.fit(1)
    learn.dls = images()
    learn.fit(1)
    assert all(torch.isfinite(v).all() for v in learn.model.state_dict().values())
    assert learn.model.body[1].num_batches_tracked.item() == 2 + N_BATCHES


def test_a_clean_fit_is_unchanged_by_the_guard(tmp_path: Path) -> None:
    """With NanGuard's buffer copy, a clean fit gives bit-identical results to one without the guard."""
    from graftzoo.learner.nan_guard import NanGuard

    guarded = make_learner(tmp_path)
    guarded.fit(2)
    bare = make_learner(tmp_path)
    with bare.removed_cbs([cb for cb in bare.cbs if isinstance(cb, NanGuard)]):
        bare.fit(2)
    assert changed(bare.model.state_dict(), guarded.model) == []


# -- damaged checkpoints ---------------------------------------------------------------------------


def _rewrite(path: Path, edit: Callable[[dict[str, torch.Tensor], dict[str, Any]], Any]) -> None:
    """Rewrite the checkpoint at `path` after `edit(tensors, meta)`; `edit` may return a raw metadata string."""
    with safe_open(str(path), framework="pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}
        meta = json.loads(f.metadata()["graftzoo.learner"])
    raw = edit(tensors, meta)
    save_file(tensors, str(path), metadata={"graftzoo.learner": raw if isinstance(raw, str) else json.dumps(meta)})


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x00" * 64)


def _bad_header_length(path: Path) -> None:
    path.write_bytes(b"\xff" * 8 + path.read_bytes()[8:])


def _broken_header(path: Path) -> None:
    data = path.read_bytes()
    n = int.from_bytes(data[:8], "little")
    path.write_bytes(data[:8] + b"{" * n + data[8 + n:])


DAMAGES: list[Any] = [
    pytest.param(_truncate, "cannot read the checkpoint", id="truncated"),
    pytest.param(_garbage, "cannot read the checkpoint", id="garbage"),
    pytest.param(_bad_header_length, "cannot read the checkpoint", id="header-length"),
    pytest.param(_broken_header, "cannot read the checkpoint", id="header-not-json"),
    pytest.param(lambda p: _rewrite(p, lambda t, m: "{not json"), "not valid JSON", id="metadata-not-json"),
    pytest.param(lambda p: _rewrite(p, lambda t, m: "[" * 100_000 + "]" * 100_000), "not valid JSON", id="metadata-deep"),
    pytest.param(lambda p: _rewrite(p, lambda t, m: "[1, 2]"), "checkpoint format 'list'", id="metadata-a-list"),
    pytest.param(lambda p: _rewrite(p, lambda t, m: m["opt"].update(state=[1])), "optimizer state .* is damaged", id="opt-state-a-list"),
    pytest.param(lambda p: _rewrite(p, lambda t, m: m["opt"].pop("param_groups")), "optimizer state .* is damaged", id="opt-groups-missing"),
    pytest.param(lambda p: _rewrite(p, lambda t, m: t.update({"opt.bogus": torch.zeros(1)})), "optimizer state .* is damaged", id="opt-tensor-name"),
    pytest.param(lambda p: _rewrite(p, lambda t, m: t.update({"opt.group.7.lr": torch.zeros(1)})), "optimizer state .* is damaged", id="opt-group-index"),
    pytest.param(lambda p: _rewrite(p, lambda t, m: m["opt"]["param_groups"].pop()), "does not fit this learner's optimizer", id="opt-group-dropped"),
    pytest.param(lambda p: _rewrite(p, lambda t, m: t.update({"opt.state.0.exp_avg": torch.zeros(5)})), "exp_avg of parameter 0", id="opt-moment-shape"),
    pytest.param(lambda p: _rewrite(p, lambda t, m: t.update({"model.head.2.weight": torch.zeros(3, 4)})), r"shape mismatches", id="model-shape"),
    pytest.param(lambda p: _rewrite(p, lambda t, m: t.pop("model.body.1.running_var")), r"missing \['body.1.running_var'\]", id="model-missing"),
    pytest.param(lambda p: _rewrite(p, lambda t, m: t.update({"model.extra": torch.zeros(1)})), r"unexpected \['extra'\]", id="model-unexpected"),
]


@pytest.mark.parametrize(("damage", "message"), DAMAGES)
def test_a_damaged_checkpoint_is_a_clean_error_and_loads_nothing(tmp_path: Path, damage: Callable[[Path], None], message: str) -> None:
    learn = make_learner(tmp_path)
    learn.fit(1)
    path = learn.save("ckpt")
    damage(path)
    learn.fit(1)  # move away from the checkpoint, so a partial load would show
    model_before = {k: v.clone() for k, v in learn.model.state_dict().items()}
    opt_before = {(i, k): v.clone() for i, st in learn.opt.state_dict()["state"].items() for k, v in st.items()}
    groups_before = json.dumps(learn.opt.state_dict()["param_groups"])
    with pytest.raises(GraftzooError, match=message):
        learn.load("ckpt")
    assert changed(model_before, learn.model) == []
    opt_after = {(i, k): v for i, st in learn.opt.state_dict()["state"].items() for k, v in st.items()}
    assert opt_after.keys() == opt_before.keys() and all(torch.equal(opt_before[k], opt_after[k]) for k in opt_before)
    assert json.dumps(learn.opt.state_dict()["param_groups"]) == groups_before


def test_an_intact_checkpoint_still_round_trips(tmp_path: Path) -> None:
    learn = make_learner(tmp_path)
    learn.fit(1)
    learn.save("ckpt")
    saved = {k: v.clone() for k, v in learn.model.state_dict().items()}
    learn.fit(1)
    learn.load("ckpt")
    assert changed(saved, learn.model) == []


# -- resuming a one-cycle fit ----------------------------------------------------------------------


class SaveAfterEpoch(Callback):
    order = 90

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def after_epoch(self) -> None:
        if self.learn.epoch == self.epoch:
            self.learn.save("mid")


def test_fit_one_cycle_resumes_its_schedule_from_a_mid_fit_checkpoint(tmp_path: Path) -> None:
    """Resuming used to restart the warm-up; with start_epoch the rest of the fit is replayed exactly."""
    straight = make_learner(tmp_path)
    straight.fit_one_cycle(4, 1e-2, cbs=[SaveAfterEpoch(1)])
    resumed = make_learner(tmp_path)
    resumed.load("mid")
    assert resumed.resume_epoch == 2
    resumed.fit_one_cycle(4, 1e-2, start_epoch=resumed.resume_epoch)
    assert resumed.recorder.lrs == straight.recorder.lrs[2 * N_BATCHES:]
    assert changed(straight.model.state_dict(), resumed.model) == []


def test_a_checkpoint_saved_outside_a_fit_resumes_at_epoch_zero(tmp_path: Path) -> None:
    learn = make_learner(tmp_path)
    learn.fit(1)
    learn.save("after")
    learn.load("after")
    assert learn.resume_epoch == 0
    with pytest.raises(GraftzooError, match="start_epoch must be from 0 to n_epoch - 1"):
        learn.fit_one_cycle(2, start_epoch=2)
