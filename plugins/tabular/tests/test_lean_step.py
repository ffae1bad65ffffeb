"""The lean training step: LeanAdamW is torch's fused AdamW, and the body's direct BatchNorm path is the modules' result."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from graftzoo_tabular import LeanAdamW
from graftzoo_tabular.body import EmbeddingsMLP
from graftzoo_tabular.learner import adamw


def _params(seed: int) -> list[nn.Parameter]:
    g = torch.Generator().manual_seed(seed)
    return [nn.Parameter(torch.randn(5, 3, generator=g)), nn.Parameter(torch.randn(3, generator=g)), nn.Parameter(torch.randn(4, generator=g))]


@pytest.mark.parametrize(("options", "shared"), [({}, False), ({"amsgrad": True, "maximize": True}, False), ({}, True)])
def test_lean_adamw_steps_exactly_as_torch_fused_adamw(options: dict[str, bool], shared: bool) -> None:
    """Two groups with their own settings (two kernel calls), or the same settings (one shared call)."""
    ref_params, lean_params = _params(0), _params(0)
    second = {} if shared else {"lr": 3e-2, "weight_decay": 0.1}
    groups = lambda ps: [{"params": ps[:2], "lr": 1e-2}, {"params": ps[2:], **second}]  # noqa: E731
    ref = torch.optim.AdamW(groups(ref_params), fused=True, **options)
    lean = adamw(groups(lean_params), **options)
    assert isinstance(lean, LeanAdamW)
    g = torch.Generator().manual_seed(1)
    for step in range(6):
        grads = [torch.randn(p.shape, generator=g) for p in ref_params]
        for opt, ps in ((ref, ref_params), (lean, lean_params)):
            for i, (p, grad) in enumerate(zip(ps, grads)):
                p.grad = None if (step == 3 and i == 1) else grad.clone()  # a parameter without a gradient
            for group in opt.param_groups[: 2 if shared else 1]:
                group["lr"] = 1e-2 * (step + 1)  # schedules write lr and betas between steps
            for group in opt.param_groups[0 if shared else 1:]:
                group["betas"] = (0.95 - 0.01 * step, 0.99)
            opt.step()
            opt.zero_grad()
    for a, b in zip(ref_params, lean_params):
        assert torch.equal(a, b) and b.grad is None
    ref_state, lean_state = ref.state_dict(), lean.state_dict()
    assert ref_state["param_groups"] == lean_state["param_groups"]
    for i in ref_state["state"]:
        assert ref_state["state"][i].keys() == lean_state["state"][i].keys()
        assert all(torch.equal(ref_state["state"][i][k], lean_state["state"][i][k]) for k in ref_state["state"][i])
    restored = LeanAdamW(groups(_params(0)), **options)
    restored.load_state_dict(lean_state)  # the same layout loads back
    assert torch.equal(restored.state_dict()["state"][2]["exp_avg"], lean_state["state"][2]["exp_avg"])


def test_lean_adamw_closure_and_hooks() -> None:
    p = nn.Parameter(torch.ones(3))
    opt = LeanAdamW([p], lr=0.1)
    calls: list[int] = []
    opt.register_step_post_hook(lambda *_: calls.append(1))

    def closure() -> float:
        opt.zero_grad()
        loss = (p**2).sum()
        loss.backward()
        return float(loss.detach())

    assert opt.step(closure) == 3.0
    p.grad = torch.ones(3)
    opt.step()  # the fast path
    assert calls == [1, 1] and float(opt.state[p]["step"]) == 2.0


def test_lean_adamw_skips_a_step_a_grad_scaler_found_inf_in() -> None:
    results = []
    for make in (lambda ps: torch.optim.AdamW(ps, lr=0.1, fused=True), lambda ps: LeanAdamW(ps, lr=0.1)):
        ps = _params(0)
        opt = make(ps)
        for found in (0.0, 1.0, 0.0):
            for p in ps:
                p.grad = torch.full_like(p, 4.0)  # scaled by 2: the step sees 2.0
            opt.grad_scale, opt.found_inf = torch.tensor(2.0), torch.tensor(found)
            opt.step()
        results.append((ps, opt.state_dict()["state"]))
    (ref_ps, ref_state), (lean_ps, lean_state) = results
    assert all(torch.equal(a, b) for a, b in zip(ref_ps, lean_ps))
    assert float(lean_state[0]["step"]) == 2.0 and all(torch.equal(ref_state[0][k], lean_state[0][k]) for k in ref_state[0])


def _body() -> EmbeddingsMLP:
    torch.manual_seed(0)
    return EmbeddingsMLP([(4, 3), (7, 4)], n_cont=2, layers=[8, 5])


def _batch(n: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(2)
    return torch.stack([torch.randint(0, 4, (n,), generator=g), torch.randint(0, 7, (n,), generator=g)], 1), torch.randn(n, 2, generator=g)


@pytest.mark.parametrize("training", [True, False])
def test_direct_batchnorm_equals_the_modules(training: bool) -> None:
    fast, slow = _body(), _body()
    for m in slow.modules():  # a hook makes every BatchNorm run through nn.BatchNorm1d.forward
        if isinstance(m, nn.BatchNorm1d):
            m.register_forward_pre_hook(lambda *_: None)
    fast.train(training)
    slow.train(training)
    x_cat, x_cont = _batch()
    out_fast, out_slow = fast(x_cat, x_cont), slow(x_cat, x_cont)
    assert torch.equal(out_fast, out_slow)
    out_fast.square().sum().backward()
    out_slow.square().sum().backward()
    for (name, a), b in zip(fast.named_parameters(), slow.parameters()):
        assert torch.equal(a.grad, b.grad), name
    fast_state, slow_state = fast.state_dict(), slow.state_dict()
    assert all(torch.equal(fast_state[k], slow_state[k]) for k in fast_state)  # running stats, num_batches_tracked
    assert int(fast_state["layers.0.2.num_batches_tracked"]) == (1 if training else 0)


def test_hooks_and_torch_checks_still_apply() -> None:
    body = _body()
    seen: list[tuple[int, ...]] = []
    body.layers[1][2].register_forward_hook(lambda _m, _i, out: seen.append(tuple(out.shape)))
    body(*_batch())
    assert seen == [(6, 5)]
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        _body().train()(*_batch(1))  # a training batch of one row, as nn.BatchNorm1d refuses it


def test_embedding_dropout_still_drops() -> None:
    body = EmbeddingsMLP([(4, 3), (7, 4)], n_cont=2, layers=[8], embed_p=0.5)
    seen: list[torch.Tensor] = []
    body.emb_drop.register_forward_hook(lambda _m, _i, out: seen.append(out))
    body.train()(*_batch(64))
    assert (seen[0] == 0).float().mean() > 0.3  # about half the embedding values dropped
