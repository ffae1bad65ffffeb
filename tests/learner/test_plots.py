"""Plots: one default folder, shown inline in a real IPython shell, and an lr_find legend that
shows the values lr_find returns."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pytest

from graftzoo.learner.lr_find import finder_curve, lr_find_figure, suggest
from graftzoo.learner.plot_folder import plot_folder
from graftzoo.learner.plotting import new_axes, save_figure

PNG = b"\x89PNG\r\n\x1a\n"


def test_plot_folder_is_the_env_var_else_plots_in_the_working_directory(tmp_path, monkeypatch):
    assert plot_folder() == tmp_path / "plots"  # conftest points GRAFTZOO_PLOTS here
    monkeypatch.delenv("GRAFTZOO_PLOTS")
    monkeypatch.chdir(tmp_path)
    fig, ax = new_axes()
    ax.plot([0, 1], [1, 0])
    out = save_figure(fig, None, "line.png")
    assert out == Path("plots") / "line.png" and (tmp_path / "plots" / "line.png").read_bytes()[:8] == PNG


def test_every_learner_plot_lands_in_the_plot_folder(make_learner, tmp_path):
    learn = make_learner(path=tmp_path / "elsewhere")  # learn.path does not move plots
    learn.lr_find(num_it=12)
    learn.fit(1)
    learn.recorder.plot_loss(skip_start=0)
    learn.recorder.plot_lr()
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["loss.png", "lr.png", "lr_find.png"]
    assert not (tmp_path / "elsewhere").exists()


def _legend(fig) -> dict[str, str]:
    """{name: value text} read from the legend artists of the figure's only axes."""
    (ax,) = fig.axes
    return dict(t.get_text().split(": ") for t in ax.get_legend().get_texts())


def test_lr_find_legend_shows_the_returned_values(make_learner):
    learn = make_learner()
    res = learn.lr_find(num_it=40, show_plot=False)
    lrs, losses = finder_curve(learn.recorder.lrs, learn.recorder.losses, 40)
    again, points = suggest(lrs, losses, 40, res._fields)
    assert again == res  # the curve and rules lr_find used
    expected = {name: f"{value:.2e}" for name, value in res._asdict().items()}
    assert _legend(lr_find_figure(lrs, losses, points, res._asdict())) == expected  # what lr_find draws
    assert _legend(lr_find_figure(lrs, losses, points)) == expected  # each marker sits at its suggestion too
    assert points["minimum"][0] == pytest.approx(res.minimum)
    assert res.minimum == pytest.approx(lrs[np.argmin(losses)] / 10)  # fastai's rule: a tenth of the lowest point


@pytest.fixture
def ipython_shell():
    """A real (non-terminal) IPython shell, as a Jupyter kernel runs one; cleared afterwards."""
    shell_module = pytest.importorskip("IPython.core.interactiveshell")
    shell = shell_module.InteractiveShell.instance()
    yield shell
    shell_module.InteractiveShell.clear_instance()


def test_plots_are_shown_inline_in_an_ipython_shell(make_learner, ipython_shell, tmp_path, monkeypatch):
    from IPython.utils.capture import capture_output

    learn = make_learner()
    learn.fit(1)
    with capture_output() as cap:
        out = learn.recorder.plot_loss(skip_start=0)
    assert len(cap.outputs) == 1
    shown = cap.outputs[0].data["image/png"]
    shown = shown if isinstance(shown, bytes) else base64.b64decode(shown)
    assert shown == out.read_bytes()  # the very PNG that was saved

    monkeypatch.setenv("GRAFTZOO_INLINE_PLOTS", "0")
    with capture_output() as cap:
        learn.recorder.plot_lr()
    assert cap.outputs == []


def test_show_results_needs_data_that_draws_them(make_learner):
    from graftzoo.errors import ConfigError

    with pytest.raises(ConfigError, match="Dls cannot draw results"):
        make_learner().show_results()
