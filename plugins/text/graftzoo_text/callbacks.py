"""fastai's text callbacks: ModelResetter (fresh hidden state per phase) and RNNRegularizer (AR/TAR)."""

from __future__ import annotations

from torch import Tensor, nn

from graftzoo.learner import Callback
from graftzoo_text.awd_lstm import AWD_LSTM


def reset_hidden(model: nn.Module) -> None:
    """Zero the hidden state of every AWD_LSTM in `model`."""
    for module in model.modules():
        if isinstance(module, AWD_LSTM):
            module.reset()


class ModelResetter(Callback):
    """Reset the hidden state before training, before validation and after fitting."""

    def before_train(self) -> None:
        reset_hidden(self.learn.model)

    def before_validate(self) -> None:
        reset_hidden(self.learn.model)

    def after_fit(self) -> None:
        reset_hidden(self.learn.model)


class RNNRegularizer(Callback):
    """Activation regularization (alpha * mean(dropped output^2)) and temporal activation
    regularization (beta * mean((raw h_t - raw h_{t-1})^2)), added to the training loss.

    The outputs come from the head's `outputs` (raw, dropped) of the batch. Unlike fastai, which keeps
    the penalties out of the recorded loss, the recorded training loss includes them.
    """

    order = 10
    run_valid = False

    def __init__(self, alpha: float = 2.0, beta: float = 1.0) -> None:
        self.alpha, self.beta = alpha, beta

    def after_loss(self) -> None:
        head = getattr(self.learn.model, "head", None)
        outputs: tuple[Tensor, Tensor] | None = getattr(head, "outputs", None)
        if not self.learn.training or outputs is None or self.learn.loss is None:
            return
        raw, dropped = outputs
        loss = self.learn.loss
        if self.alpha:
            loss = loss + self.alpha * dropped.float().pow(2).mean()
        if self.beta and raw.size(1) > 1:
            loss = loss + self.beta * (raw[:, 1:] - raw[:, :-1]).float().pow(2).mean()
        self.learn.loss = loss
