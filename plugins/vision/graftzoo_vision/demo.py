"""`graftzoo demo`: fine-tune ImageNet EfficientNet-Lite0 on scikit-learn's digits, offline.

The recipe is fastai's: lr_find, fine_tune (one frozen epoch, then discriminative learning rates),
then interpretation. Everything it shows is also written to the output folder as PNG files.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

ARCH = "timm/tf_efficientnet_lite0"
SIZE = 64
SEED = 42
EPOCHS = 5


def digits_loaders(size: int = SIZE, bs: int = 64, seed: int = SEED) -> Any:
    """Image loaders over scikit-learn's 1797 digits (8x8 grayscale, shown to the body as RGB)."""
    from graftzoo_vision.data import ImageDataLoaders
    from graftzoo_vision.datasets import digits

    data = digits(size=32)
    return ImageDataLoaders.from_tensors(
        data.images, data.labels, vocab=data.classes, valid_pct=0.2, seed=seed, size=size, bs=bs, n_in=3,
    )


def train_digits(weights: str | None, epochs: int, out: Path | None = None, quiet: bool = False) -> tuple[Any, float]:
    """Fine-tune the arch on digits from `weights` (None: random); returns the learner and accuracy."""
    import torch

    from graftzoo_vision.learner import vision_learner

    torch.manual_seed(SEED)
    dls = digits_loaders()
    learn = vision_learner(dls, ARCH, weights=weights, path=out or ".")
    lr = 1e-2
    if out is not None:
        found = learn.lr_find(num_it=50, plot_path=out / "lr_find.png", show_plot=True)
        lr = float(min(max(found.minimum, 1e-3), 1e-2))
        print(f"lr_find suggests valley={found.valley:.2e}, minimum={found.minimum:.2e}; using base_lr={lr:.2e}")
    if quiet:
        with learn.quiet():
            learn.fine_tune(epochs, base_lr=lr)
    else:
        learn.fine_tune(epochs, base_lr=lr)
    accuracy = learn.validate()[1]
    assert accuracy is not None, "the learner's accuracy metric is computed on every validation"
    return learn, float(accuracy)


def run_demo(out: str | Path = "demo_output", epochs: int | None = None) -> int:
    """The `graftzoo demo` command: train, report, write the plots; exit status 0."""
    demo(out, epochs)
    return 0


def demo(out: str | Path = "demo_output", epochs: int | None = None) -> float:
    """Train, report, and write lr_find, loss, confusion matrix and CAM plots (and the head) to `out`.

    Returns the validation accuracy reached.
    """
    from graftzoo_vision.cam import grad_cam, plot_cam
    from graftzoo_vision.interpret import ClassificationInterpretation

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    print(f"graftzoo demo: {ARCH} with ImageNet weights (packaged:efficientnet-lite0) on scikit-learn digits")
    learn, accuracy = train_digits("default", epochs or EPOCHS, out=out)
    learn.recorder.plot_loss(out / "loss.png")
    interp = ClassificationInterpretation.from_learner(learn)
    interp.plot_confusion_matrix(out / "confusion_matrix.png")
    x = learn.dls.one_batch(train=False)[0][:1]
    stages = learn.model.body.feature_info
    layer = f"body.net.{stages[-2]['module']}" if len(stages) > 1 else None  # 4x4 at 64 px: finer than the last 2x2 map
    heatmap = grad_cam(learn, x[0], layer=layer)
    plot_cam(learn.dls.denormalize(x)[0], heatmap, out / "cam.png", alpha=0.5)
    saved = _save_head(learn, out / "head")
    print(f"most confused: {interp.most_confused()[:3]}")
    print(f"validation accuracy: {accuracy:.4f}  ({time.perf_counter() - start:.0f} s)")
    print(f"wrote {', '.join(sorted(p.name for p in out.iterdir()))} to {out}/" + (f" (head saved to {saved})" if saved else ""))
    return accuracy


def _save_head(learn: Any, folder: Path) -> Path | None:
    """Save the trained head as an artifact when the artifact module is installed."""
    try:
        from graftzoo.artifacts import save_head
    except ImportError:
        return None
    return save_head(learn, folder)
