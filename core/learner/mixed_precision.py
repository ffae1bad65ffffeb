"""Precision modes of the training loop: fp32, bf16 autocast, fp16 autocast + GradScaler."""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager

import torch

from graftzoo.errors import GraftzooError

__all__ = ["BF16", "FP16", "FP32", "Precision"]


class Precision:
    """fp32: no autocast, plain `loss.backward()` and `opt.step()`."""

    name = "fp32"
    _null = contextlib.nullcontext()

    def autocast(self, device_type: str) -> AbstractContextManager[object]:
        """The context the forward pass and the loss run in."""
        return self._null

    def backward(self, loss: torch.Tensor) -> None:
        loss.backward()

    def step(self, opt: torch.optim.Optimizer) -> None:
        opt.step()

    def check_device(self, device: torch.device) -> None:
        """Raise if this mode cannot run on `device`."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


FP32 = Precision


class BF16(Precision):
    """bfloat16 autocast (CPU and CUDA); no loss scaling needed."""

    name = "bf16"

    def autocast(self, device_type: str) -> AbstractContextManager[object]:
        return torch.autocast(device_type=device_type, dtype=torch.bfloat16)


class FP16(Precision):
    """float16 autocast with a GradScaler; CUDA only."""

    name = "fp16"

    def __init__(self) -> None:
        if not torch.cuda.is_available():
            raise GraftzooError(
                "to_fp16() needs a CUDA GPU (float16 autocast with a GradScaler) and none is "
                "available; on CPU use learn.to_bf16(), or stay in fp32."
            )
        self.scaler = torch.amp.GradScaler("cuda")

    def check_device(self, device: torch.device) -> None:
        if device.type != "cuda":
            raise GraftzooError(
                f"fp16 training needs the learner on a CUDA device, it is on {device}; call "
                "learn.to('cuda') or use learn.to_bf16() instead."
            )

    def autocast(self, device_type: str) -> AbstractContextManager[object]:
        return torch.autocast(device_type=device_type, dtype=torch.float16)

    def backward(self, loss: torch.Tensor) -> None:
        self.scaler.scale(loss).backward()

    def step(self, opt: torch.optim.Optimizer) -> None:
        self.scaler.step(opt)
        self.scaler.update()
