"""End to end: a U-Net learns to segment shapes drawn in the test, Dice >= 0.8 on the validation set."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch

from graftzoo_vision.data.segmentation import SegmentationDataLoaders
from graftzoo_vision.segmentation import Dice, ForegroundAccuracy, MeanIoU
from graftzoo_vision.unet_training import unet_learner


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread: None) -> None:
    """Every test here on one torch thread, seed 0 (graftzoo.testing's fixture)."""


def shapes(n: int, size: int = 64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two discs or squares per image, random colours, on a noisy background of random colour; mask 1 = shape."""
    gen = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    images = torch.empty(n, 3, size, size, dtype=torch.uint8)
    masks = torch.zeros(n, size, size, dtype=torch.long)
    for i in range(n):
        image = torch.rand(3, 1, 1, generator=gen) * 0.6 + 0.15 * torch.randn(3, size, size, generator=gen)
        for _ in range(2):
            r = int(torch.randint(5, 12, (1,), generator=gen))
            cy, cx = (int(v) for v in torch.randint(r, size - r, (2,), generator=gen))
            if torch.rand(1, generator=gen) < 0.5:
                region = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
            else:
                region = ((yy - cy).abs() <= r) & ((xx - cx).abs() <= r)
            image = torch.where(region, torch.rand(3, 1, 1, generator=gen) * 0.6 + 0.4, image)
            masks[i][region] = 1
        images[i] = (image.clamp(0, 1) * 255).to(torch.uint8)
    return images, masks


@pytest.mark.slow
def test_unet_reaches_dice_0_8_on_drawn_shapes(tmp_path: Path) -> None:
    torch.manual_seed(0)
    images, masks = shapes(200)
    dls = SegmentationDataLoaders.from_tensors(images, masks, codes=["background", "shape"], seed=0, bs=16)
    learn = unet_learner(dls, "timm/lcnet_035", weights=None, metrics=[Dice(), ForegroundAccuracy(), MeanIoU()],
                         path=tmp_path, quiet=True)
    start = time.perf_counter()
    learn.fit_one_cycle(3, 1e-2)
    _, dice, foreground_acc, mean_iou = learn.validate()
    print(f"\nU-Net on shapes: dice {dice:.3f}, foreground_acc {foreground_acc:.3f}, mean_iou {mean_iou:.3f}, "
          f"{time.perf_counter() - start:.0f} s for 3 epochs of {len(dls.train_ds)} images")
    assert dice >= 0.8
    assert dls.show_results(learn, tmp_path / "results.png").is_file()
