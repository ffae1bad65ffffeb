"""Batch augmentation in the fastai style: one affine resample and one lighting change per batch.

Every sample draws its own random-resized crop, flip, rotation and zoom; they are composed into
one affine matrix per sample and applied with a single `grid_sample` (one interpolation), then
brightness and contrast change per sample with the formulas of torchvision's v2 ops.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as nnf
from torchvision.transforms.v2 import functional as F

from graftzoo_vision.data.errors import ConfigError


@dataclass(frozen=True)
class Augment:
    """Batch augmentation settings (names and defaults follow fastai's `aug_transforms`)."""

    flip: bool = True
    flip_vert: bool = False
    max_rotate: float = 10.0
    min_zoom: float = 1.0
    max_zoom: float = 1.1
    min_scale: float = 0.75
    ratio: tuple[float, float] = (3 / 4, 4 / 3)
    max_lighting: float = 0.2
    p_affine: float = 0.75
    p_lighting: float = 0.75
    pad_mode: str = "reflection"

    def __post_init__(self) -> None:
        if not 0.0 < self.min_scale <= 1.0:
            raise ConfigError(
                f"min_scale must be in (0, 1], got {self.min_scale}; 0.75 keeps at least 3/4 of the area."
            )
        if not 0.0 < self.min_zoom <= self.max_zoom:
            raise ConfigError(f"need 0 < min_zoom <= max_zoom, got {self.min_zoom} and {self.max_zoom}.")
        if not 0.0 <= self.max_lighting < 1.0:
            raise ConfigError(f"max_lighting must be in [0, 1), got {self.max_lighting}.")
        if self.pad_mode not in ("reflection", "border", "zeros"):
            raise ConfigError(f"pad_mode must be 'reflection', 'border' or 'zeros', got {self.pad_mode!r}.")

    def __call__(self, x: torch.Tensor, size: tuple[int, int], gen: torch.Generator | None = None) -> torch.Tensor:
        """Augment float images `x` (B, C, H, W) in [0, 1] and resample them to `size` (h, w)."""
        theta = self.affine_matrices(x.shape[0], x.shape[-2], x.shape[-1], gen).to(x.device, x.dtype)
        grid = nnf.affine_grid(theta, [x.shape[0], x.shape[1], *size], align_corners=False)
        out = nnf.grid_sample(x, grid, mode="bilinear", padding_mode=self.pad_mode, align_corners=False)
        return self.lighting(out, gen)

    def affine_matrices(self, n: int, h: int, w: int, gen: torch.Generator | None) -> torch.Tensor:
        """(n, 2, 3) matrices mapping output to input coordinates (normalized, as `affine_grid` wants)."""
        r = torch.rand(n, 8, generator=gen, dtype=torch.float64)
        area = self.min_scale + (1.0 - self.min_scale) * r[:, 0]
        log_lo, log_hi = math.log(self.ratio[0]), math.log(self.ratio[1])
        aspect = torch.exp(log_lo + (log_hi - log_lo) * r[:, 1])
        half_w = torch.sqrt(area * aspect).clamp(max=1.0)
        half_h = torch.sqrt(area / aspect).clamp(max=1.0)
        centre_x = (2 * r[:, 2] - 1) * (1 - half_w)
        centre_y = (2 * r[:, 3] - 1) * (1 - half_h)
        affine = r[:, 4] < self.p_affine
        angle = torch.where(affine, (2 * r[:, 5] - 1) * math.radians(self.max_rotate), 0.0)
        zoom = torch.where(affine, self.min_zoom + (self.max_zoom - self.min_zoom) * r[:, 6], 1.0)
        flip_x = torch.where(torch.tensor(self.flip) & (r[:, 7] < 0.5), -1.0, 1.0)
        flip_y = torch.ones(n, dtype=torch.float64)
        if self.flip_vert:
            flip_y = torch.where(torch.rand(n, generator=gen, dtype=torch.float64) < 0.5, -1.0, 1.0)
        cos, sin, k = torch.cos(angle), torch.sin(angle), w / h
        # rotate in pixel space: diag(1/w, 1/h) @ R @ diag(w, h), then scale to the crop and zoom
        rot = torch.stack([torch.stack([cos, -sin / k], -1), torch.stack([sin * k, cos], -1)], -2)
        scale = torch.diag_embed(torch.stack([half_w * flip_x / zoom, half_h * flip_y / zoom], -1))
        linear = rot @ scale
        return torch.cat([linear, torch.stack([centre_x, centre_y], -1)[..., None]], -1).float()

    def lighting(self, x: torch.Tensor, gen: torch.Generator | None) -> torch.Tensor:
        """Per-sample brightness and contrast factors in [1 - max_lighting, 1 + max_lighting]."""
        if self.max_lighting == 0 or self.p_lighting == 0:
            return x
        r = torch.rand(x.shape[0], 3, generator=gen)
        on = r[:, 0] < self.p_lighting
        bright = torch.where(on, 1 + self.max_lighting * (2 * r[:, 1] - 1), 1.0)
        contrast = torch.where(on, 1 + self.max_lighting * (2 * r[:, 2] - 1), 1.0)
        shape = (-1, 1, 1, 1)
        bright, contrast = bright.to(x.device, x.dtype).view(shape), contrast.to(x.device, x.dtype).view(shape)
        x = (x * bright).clamp(0.0, 1.0)  # v2 adjust_brightness, one factor per sample
        gray = F.rgb_to_grayscale(x) if x.shape[1] == 3 else x
        mean = gray.mean(dim=(-3, -2, -1), keepdim=True)
        return (contrast * x + (1 - contrast) * mean).clamp(0.0, 1.0)  # v2 adjust_contrast, per sample
