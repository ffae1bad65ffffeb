"""`BnFreeze`: keep frozen BatchNorm layers in eval mode, so pretrained statistics stay as they are."""

from __future__ import annotations

from torch.nn.modules.batchnorm import _BatchNorm

from graftzoo.learner.callback import Callback


class BnFreeze(Callback):
    """fastai's BnFreeze: before each training epoch, put every BatchNorm whose parameters are all
    frozen into eval mode. Use it with `train_bn=False`, when the body's running statistics from
    pretraining matter more than adapting them to the new data (small data, siamese encoders)."""

    order = 1

    def before_train(self) -> None:
        for module in self.learn.model.modules():
            if isinstance(module, _BatchNorm) and not any(p.requires_grad for p in module.parameters()):
                module.eval()
