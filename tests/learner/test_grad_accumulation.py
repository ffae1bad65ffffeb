"""GradientAccumulation: bs 4 x 4 batches accumulated to 16 samples = one step on a batch of 16."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from graftzoo import GradientAccumulation
from graftzoo.errors import ConfigError


class Data:
    def __init__(self, n: int, bs: int) -> None:
        g = torch.Generator().manual_seed(3)
        x, y = torch.randn(n, 5, generator=g), torch.randint(0, 3, (n,), generator=g)
        self.train = DataLoader(TensorDataset(x, y), batch_size=bs)
        self.valid = None


def _mlp() -> nn.Module:
    torch.manual_seed(7)
    return nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))  # no BatchNorm


def _trained(make_learner, n: int, bs: int, cbs: list, opt: str = "sgd") -> tuple[nn.Module, list[float]]:
    model = _mlp()
    opt_func = torch.optim.SGD if opt == "sgd" else torch.optim.AdamW
    learn = make_learner(dls=Data(n, bs), model=model, loss_func=nn.CrossEntropyLoss(), opt_func=opt_func, cbs=cbs)
    learn.fit(1, lr=0.5)
    return model, learn.recorder.raw_losses


@pytest.mark.parametrize("opt", ["sgd", "adamw"])
def test_accumulated_small_batches_equal_one_big_batch(make_learner, opt):
    big, _ = _trained(make_learner, 16, 16, [], opt)
    acc, losses = _trained(make_learner, 16, 4, [GradientAccumulation(n_acc=16)], opt)
    for p, q in zip(big.parameters(), acc.parameters()):
        torch.testing.assert_close(p, q, atol=1e-6, rtol=1e-5)
    # SGD by hand: w1 = w0 - lr * mean gradient of the 16 samples
    start = _mlp()
    x, y = Data(16, 16).train.dataset.tensors
    nn.functional.cross_entropy(start(x), y).backward()
    if opt == "sgd":
        torch.testing.assert_close(acc[0].weight, start[0].weight - 0.5 * start[0].weight.grad, atol=1e-6, rtol=1e-5)
    # the recorded losses are the batches' true (unscaled) losses
    with torch.no_grad():
        first = nn.functional.cross_entropy(_mlp()(x[:4]), y[:4]).item()
    assert losses[0] == pytest.approx(first, rel=1e-5)


def test_no_step_before_n_acc_samples(make_learner):
    untouched, _ = _trained(make_learner, 12, 4, [GradientAccumulation(n_acc=16)])  # 12 < 16: never steps
    for p, q in zip(untouched.parameters(), _mlp().parameters()):
        assert torch.equal(p, q)


def test_bad_n_acc():
    with pytest.raises(ConfigError, match="n_acc"):
        GradientAccumulation(0)


def test_gradient_clip_sees_only_the_accumulated_gradient(make_learner):
    from graftzoo import GradientClip

    clip = GradientClip(max_norm=1e9)
    _trained(make_learner, 20, 4, [GradientAccumulation(n_acc=16), clip])  # steps after batch 4; batch 5 is left over
    start = _mlp()
    x, y = Data(20, 4).train.dataset.tensors
    nn.functional.cross_entropy(start(x[:16]), y[:16]).backward()
    full = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in start.parameters()]))
    assert float(clip.last_norm) == pytest.approx(float(full), rel=1e-5)
