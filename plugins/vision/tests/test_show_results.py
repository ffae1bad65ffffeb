"""show_results for image classification (through learn.show_results), and every vision plot
saved in the one plot folder and shown inline in a real IPython shell."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import torch
from torch import nn

from graftzoo.learner import Learner
from graftzoo_vision.cam import plot_cam
from graftzoo_vision.data import ImageDataLoaders
from graftzoo_vision.interpret import ClassificationInterpretation
from graftzoo_vision.show_results import classification_results_figure, label_text

VOCAB = ["cat", "dog", "emu"]
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def learn() -> Learner:
    """A linear classifier over 8x8 RGB images of three classes, untrained (so some predictions are wrong)."""
    torch.manual_seed(0)
    images = torch.randint(0, 256, (24, 3, 8, 8), dtype=torch.uint8)
    dls = ImageDataLoaders.from_tensors(images, [i % 3 for i in range(24)], vocab=VOCAB, valid_pct=0.5, seed=0,
                                        bs=6, augment=False, device="cpu")
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 3))
    return Learner(dls, model, loss_func=nn.CrossEntropyLoss(), quiet=True, device="cpu")


def test_results_figure_titles_are_target_slash_prediction(learn: Learner) -> None:
    fig = classification_results_figure(learn.dls, learn, max_n=5)
    x, y = learn.dls.one_batch(train=False)
    with torch.no_grad():
        pred = learn.model.eval()(x[:5]).argmax(dim=1)
    assert len(fig.axes) == 5
    titles = [ax.title.get_text() for ax in fig.axes]
    assert titles == [f"{VOCAB[int(t)]}/{VOCAB[int(p)]}" for t, p in zip(y[:5], pred)]
    colors = [ax.title.get_color() for ax in fig.axes]
    assert colors == ["green" if t == p else "red" for t, p in zip(y[:5], pred)]
    assert len(set(colors)) == 2  # this untrained model gets some right and some wrong


def test_learn_show_results_saves_in_the_plot_folder_and_shows_inline(learn: Learner, _plots_in_tmp: Path) -> None:
    shell_module = pytest.importorskip("IPython.core.interactiveshell")
    from IPython.utils.capture import capture_output

    shell_module.InteractiveShell.instance()
    try:
        with capture_output() as cap:
            out = learn.show_results(max_n=4)
    finally:
        shell_module.InteractiveShell.clear_instance()
    assert out == _plots_in_tmp / "show_results.png" and out.read_bytes()[:8] == PNG
    (shown,) = [o.data["image/png"] for o in cap.outputs]
    assert (shown if isinstance(shown, bytes) else base64.b64decode(shown)) == out.read_bytes()


def test_every_vision_plot_defaults_to_the_plot_folder(learn: Learner, _plots_in_tmp: Path) -> None:
    learn.dls.show_batch(max_n=4)
    interp = ClassificationInterpretation.from_learner(learn)
    interp.plot_confusion_matrix()
    interp.plot_top_losses(3)
    plot_cam(torch.rand(3, 8, 8), torch.rand(4, 4))
    names = ["cam.png", "confusion_matrix.png", "show_batch.png", "top_losses.png"]
    assert sorted(p.name for p in _plots_in_tmp.iterdir()) == names
    assert all(p.read_bytes()[:8] == PNG for p in _plots_in_tmp.iterdir())


def test_label_text_for_indices_tags_and_values() -> None:
    assert label_text(torch.tensor(2), VOCAB) == "emu"
    assert label_text(torch.tensor([1, 0, 1]), VOCAB) == "cat;emu"  # multi-hot
    assert label_text(torch.tensor([1.0, 0.0, 1.0]), VOCAB) == "cat;emu"  # float multi-hot target
    assert label_text(torch.tensor(0.25), None) == "0.25"  # regression
    assert label_text(torch.tensor([0.5, 1.5]), None) == "0.5, 1.5"
