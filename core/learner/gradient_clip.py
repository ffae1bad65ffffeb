"""GradientClip: clip the gradients' total norm between backward and the optimizer step."""

from __future__ import annotations

from torch import Tensor, nn

from graftzoo.learner.callback import Callback
from graftzoo.learner.mixed_precision import FP16

__all__ = ["GradientClip"]


class GradientClip(Callback):
    """`nn.utils.clip_grad_norm_(model.parameters(), max_norm, norm_type)` in `before_step`.

    Under fp16 the GradScaler's gradients are unscaled first (`scaler.unscale_`), so the
    norm is that of the true gradients; the scaler's step then skips its own unscaling.
    `last_norm` is the total norm before clipping (a tensor: reading it syncs the device).
    """

    run_valid = False

    def __init__(self, max_norm: float = 1.0, norm_type: float = 2.0) -> None:
        self.max_norm, self.norm_type = max_norm, norm_type
        self.last_norm: Tensor | None = None

    def before_step(self) -> None:
        learn = self.learn
        if isinstance(learn.precision, FP16):
            assert learn.opt is not None, "fit creates the optimizer before the first batch"
            learn.precision.scaler.unscale_(learn.opt)
        params = [p for p in learn.model.parameters() if p.grad is not None]
        self.last_norm = nn.utils.clip_grad_norm_(params, self.max_norm, self.norm_type)

    def __repr__(self) -> str:
        return f"GradientClip(max_norm={self.max_norm}, norm_type={self.norm_type})"
