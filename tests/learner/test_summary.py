"""learn.summary(): layer table with output shapes, hand-counted parameters, trainable flags,
totals and the frozen groups."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from graftzoo.errors import ConfigError


def _row(text: str, layer: str) -> list[str]:
    (line,) = [line for line in text.splitlines() if line.startswith(layer + " ")]
    return line[len(layer):].split()


def test_summary_of_a_frozen_tiny_model(make_learner, capsys):
    learn = make_learner()  # FakeGrafted: body Linear(4, 16), BatchNorm1d(16), ReLU; head Linear(16, 2)
    learn.freeze()
    text = learn.summary()
    assert capsys.readouterr().out == text + "\n"
    assert text.splitlines()[0] == "FakeGrafted (Input shape: 32 x 4)"  # a validation batch of 32
    assert _row(text, "body.0 (Linear)") == ["32", "x", "16", "80", "False"]  # 4*16 + 16
    assert _row(text, "body.1 (BatchNorm1d)") == ["32", "x", "16", "32", "True"]  # 16 + 16; train_bn
    assert _row(text, "body.2 (ReLU)") == ["32", "x", "16", "0"]
    assert _row(text, "head (Linear)") == ["32", "x", "2", "34", "True"]  # 16*2 + 2
    assert "Total params: 146" in text and "Total trainable params: 66" in text
    assert "Total non-trainable params: 80" in text
    assert "group 0: 112 params, trainable: partly" in text and "group 1: 34 params, trainable: True" in text
    assert "Model frozen up to parameter group #1" in text
    assert "Optimizer used: AdamW" in text and "Loss function: CrossEntropyLoss()" in text

    learn.unfreeze()
    text = learn.summary(show=False)
    assert capsys.readouterr().out == ""
    assert "Total trainable params: 146" in text and "Model unfrozen" in text
    assert _row(text, "body.0 (Linear)")[-1] == "True"


class Gated(nn.Module):
    """A module with a parameter of its own and children, one child never called."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(3))
        self.conv = nn.Conv2d(1, 3, 3, padding=1)  # 1*3*3*3 + 3 = 30
        self.unused = nn.Linear(2, 2)  # 6

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.conv(x) * self.scale[:, None, None]).mean(dim=(2, 3))


def test_summary_counts_own_parameters_and_marks_uncalled_layers(make_learner):
    x, y = torch.rand(10, 1, 5, 5), torch.randint(0, 3, (10,))
    data = type("Data", (), {"train": DataLoader(TensorDataset(x, y), batch_size=4), "valid": None})()
    text = make_learner(data, nn.Sequential(Gated()), loss_func=nn.CrossEntropyLoss()).summary(show=False)
    assert text.splitlines()[0] == "Sequential (Input shape: 4 x 1 x 5 x 5)"  # the training batch: no valid set
    assert _row(text, "0 (Gated)") == ["4", "x", "3", "3", "True"]  # only `scale`: its children have rows
    assert _row(text, "0.conv (Conv2d)") == ["4", "x", "3", "x", "5", "x", "5", "30", "True"]
    assert _row(text, "0.unused (Linear)") == ["-", "6", "True"]
    assert "Total params: 39" in text


def test_summary_of_empty_data_is_a_clear_error(make_learner):
    empty = DataLoader(TensorDataset(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long)), batch_size=4)
    data = type("Data", (), {"train": empty, "valid": empty})()
    with pytest.raises(ConfigError, match="empty"):
        make_learner(data).summary()
