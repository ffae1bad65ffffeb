"""LeanAdamW: torch's fused AdamW kernel, with the Python bookkeeping of each step cut to a minimum.

For a model as small as a table's (11 parameter tensors, well under a millisecond per step)
torch's `AdamW(fused=True).step()` spends most of its time in Python: per-parameter checks and
grouping the tensors by device and dtype on every call. `LeanAdamW` is that optimizer (same
defaults, same state layout, so `state_dict()` / `load_state_dict()`, schedules and GradScaler
work unchanged) whose `step` gathers the lists and calls the same fused kernel directly. Step
hooks run as for any torch optimizer (torch wraps every optimizer's `step` with them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor

from graftzoo_tabular.errors import ConfigError

__all__ = ["LeanAdamW"]

_ONE = torch.ones(())  # the step increment on CPU, wrapped once (torch's AdamW does the same)


class LeanAdamW(torch.optim.AdamW):
    """`torch.optim.AdamW(..., fused=True)` with a lean `step` (see the module docstring)."""

    def __init__(
        self, params: Iterable[Any], lr: float | Tensor = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, fused=True)

    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        grad_scale: Tensor | None = getattr(self, "grad_scale", None)  # set by a GradScaler
        found_inf: Tensor | None = getattr(self, "found_inf", None)
        with torch.no_grad():
            for (device, _, _), (group, lists) in self._lists().items():
                self._step_lists(group, device, *lists, grad_scale=grad_scale, found_inf=found_inf)
        return loss

    def _lists(self) -> dict[tuple[Any, ...], tuple[dict[str, Any], tuple[list[Tensor], ...]]]:
        """(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps) of the parameters with a
        gradient, one bucket per device, dtype and settings (groups with the same settings, e.g. body
        and head under one learning rate, share one kernel call); state is made at a parameter's first
        step, as torch makes it."""
        state = self.state
        out: dict[tuple[Any, ...], tuple[dict[str, Any], tuple[list[Tensor], ...]]] = {}
        for group in self.param_groups:
            amsgrad = group["amsgrad"]
            settings = tuple(
                id(v) if isinstance(v, Tensor) else v
                for v in (group["lr"], *group["betas"], group["weight_decay"], group["eps"], amsgrad, group["maximize"])
            )
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if g.is_sparse:
                    raise ConfigError("LeanAdamW does not support sparse gradients (nor does torch's AdamW)")
                st = state[p]
                if not st:
                    st["step"] = torch.zeros((), dtype=torch.float32, device=p.device)
                    st["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    st["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    if amsgrad:
                        st["max_exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                key = (p.device, p.dtype, settings)
                bucket = out.get(key)
                if bucket is None:
                    bucket = out[key] = (group, ([], [], [], [], [], []))
                lists = bucket[1]
                lists[0].append(p)
                lists[1].append(g)
                lists[2].append(st["exp_avg"])
                lists[3].append(st["exp_avg_sq"])
                if amsgrad:
                    lists[4].append(st["max_exp_avg_sq"])
                lists[5].append(st["step"])
        return out

    @staticmethod
    def _step_lists(
        group: dict[str, Any], device: torch.device, params: list[Tensor], grads: list[Tensor], exp_avgs: list[Tensor],
        exp_avg_sqs: list[Tensor], max_exp_avg_sqs: list[Tensor], steps: list[Tensor], *,
        grad_scale: Tensor | None, found_inf: Tensor | None,
    ) -> None:
        if device.type == "cpu":
            torch._foreach_add_(steps, _ONE, alpha=1.0)
        else:
            torch._foreach_add_(steps, 1)
        lr = group["lr"]
        if isinstance(lr, Tensor) and (lr.device.type == "cpu" or lr.device != device):
            lr = lr.item()  # torch keeps a tensor lr only on the parameters' accelerator
        if grad_scale is not None:
            grad_scale = grad_scale.to(device, non_blocking=True)
        if found_inf is not None:
            found_inf = found_inf.to(device, non_blocking=True)
        beta1, beta2 = group["betas"]
        torch._fused_adamw_(
            params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, lr=lr, beta1=float(beta1), beta2=float(beta2),
            weight_decay=group["weight_decay"], eps=group["eps"], amsgrad=group["amsgrad"], maximize=group["maximize"],
            grad_scale=grad_scale, found_inf=found_inf,
        )
        if found_inf is not None:
            torch._foreach_sub_(steps, [found_inf] * len(steps))  # a skipped step does not count, as in torch

    def zero_grad(self, set_to_none: bool = True) -> None:
        """As torch's, with the common `set_to_none=True` as a plain loop."""
        if not set_to_none:
            super().zero_grad(set_to_none=False)
            return
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None
