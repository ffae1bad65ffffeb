"""Distributed pieces that need no second process: sharding rules, refusals, one-process no-ops."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from graftzoo.errors import ConfigError
from graftzoo.learner import Learner
from graftzoo.learner.distributed import env_world_size, is_active, on_main
from graftzoo.learner.reduction import check_reducible
from graftzoo.learner.sharding import ShardedSampler, StridedShard, shard_loader, shard_loaders
from graftzoo.metrics import RMSE, F1Score, Metric, accuracy, as_metric


class Dls:
    def __init__(self) -> None:
        x, y = torch.randn(12, 3), torch.randn(12, 1)
        self.train = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True)
        self.valid = DataLoader(TensorDataset(x, y), batch_size=4)


def test_strided_shards_cover_everything_once_without_padding() -> None:
    shards = [list(StridedShard(13, r, 3)) for r in range(3)]
    assert sorted(sum(shards, [])) == list(range(13))
    assert [len(StridedShard(13, r, 3)) for r in range(3)] == [5, 4, 4]


def test_shard_loader_keeps_batch_size_collate_and_shuffling() -> None:
    dls = Dls()
    train = shard_loader(dls.train, 1, 2, train=True, seed=3)
    valid = shard_loader(dls.valid, 1, 2, train=False)
    assert train.batch_size == 4 and train.collate_fn is dls.train.collate_fn
    assert train.sampler.shuffle and train.sampler.seed == 3  # type: ignore[attr-defined]
    assert len(train.sampler) == 6 and list(valid.sampler) == [1, 3, 5, 7, 9, 11]  # type: ignore[arg-type]


def test_shard_loader_refuses_what_it_cannot_split() -> None:
    with pytest.raises(ConfigError, match="distributed\\(rank, world_size\\)"):
        shard_loader([(torch.zeros(1), torch.zeros(1))], 0, 2, train=True)


def test_metrics_declare_how_they_reduce() -> None:
    for m in (as_metric(accuracy), F1Score(), RMSE()):
        check_reducible(m)

    class Custom(Metric):
        name = "custom"

    with pytest.raises(ConfigError, match="custom.*sum_states"):
        check_reducible(Custom())


def test_one_process_is_a_no_op(tmp_path: Path) -> None:
    assert env_world_size() == 1 and not is_active()
    learn = Learner(Dls(), nn.Linear(3, 1), loss_func=nn.MSELoss(), path=tmp_path, device="cpu", quiet=True)
    learn.fit(1)
    assert learn.wrapped_model is None and learn.dls.train.batch_size == 4
    assert on_main(lambda: 7, 0) == 7


def test_explicit_distributed_needs_torchrun(tmp_path: Path) -> None:
    learn = Learner(Dls(), nn.Linear(3, 1), loss_func=nn.MSELoss(), path=tmp_path, device="cpu", quiet=True)
    with learn.distributed(), pytest.raises(ConfigError, match="torchrun --nproc_per_node"):
        learn.fit(1)
    learn.fit(1)  # back to one process after the block


def test_custom_sampler_keys_are_strided_and_padded_for_training() -> None:
    keys = [(0, 1, True), (2, 3, False), (4, 5, True), (6, 7, False), (8, 9, True)]
    train = [list(ShardedSampler(keys, r, 2, pad=True)) for r in range(2)]
    valid = [list(ShardedSampler(keys, r, 2, pad=False)) for r in range(2)]
    assert train == [[keys[0], keys[2], keys[4]], [keys[1], keys[3], keys[0]]]  # equal lengths: padded
    assert valid == [[keys[0], keys[2], keys[4]], [keys[1], keys[3]]] and sorted(sum(valid, [])) == sorted(keys)


def test_a_loaders_own_distributed_hook_is_used() -> None:
    class Sliced:
        train, valid = [1, 2, 3, 4], [5, 6]

        def distributed(self, rank: int, world_size: int) -> Dls:
            shard = Dls()
            shard.train, shard.valid = self.train[rank::world_size], self.valid[rank::world_size]  # type: ignore[assignment]
            return shard

    assert shard_loaders(Sliced(), 1, 2).train == [2, 4]
