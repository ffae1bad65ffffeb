"""Mixed precision (bf16 anywhere, fp16 on CUDA) and channels_last."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from graftzoo.errors import GraftzooError
from graftzoo.learner import BF16, FP16, Callback

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


class SeeDtypes(Callback):
    def __init__(self):
        self.pred_dtypes = set()

    def after_pred(self):
        self.pred_dtypes.add(self.learn.pred.dtype)


def test_bf16_on_cpu_trains_and_predicts(make_learner):
    learn = make_learner(lr=1e-2).to_bf16()
    assert isinstance(learn.precision, BF16)
    cb = SeeDtypes()
    learn.fit(1, cbs=[cb])
    assert cb.pred_dtypes == {torch.bfloat16}
    assert all(p.dtype == torch.float32 for p in learn.model.parameters())  # master weights stay fp32
    preds, _ = learn.get_preds()
    assert preds.dtype == torch.float32
    _, _, probs = learn.predict(torch.ones(4))
    assert probs.dtype == torch.float32
    learn.to_fp32()
    cb = SeeDtypes()
    learn.fit(1, cbs=[cb])
    assert cb.pred_dtypes == {torch.float32}


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised without CUDA")
def test_fp16_without_cuda_says_so(make_learner):
    with pytest.raises(GraftzooError, match="CUDA"):
        make_learner().to_fp16()


def _images():
    class Dls:
        def __init__(self):
            x, y = torch.randn(32, 3, 8, 8), torch.randint(0, 2, (32,))
            self.train = DataLoader(TensorDataset(x[:24], y[:24]), batch_size=8)
            self.valid = DataLoader(TensorDataset(x[24:], y[24:]), batch_size=8)

    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    return Dls(), model


def test_channels_last(make_learner):
    dls, model = _images()

    class SeeLayout(Callback):
        def before_batch(self):
            self.ok = self.learn.xb[0].is_contiguous(memory_format=torch.channels_last)

    cb = SeeLayout()
    learn = make_learner(dls=dls, model=model, loss_func=nn.CrossEntropyLoss()).to_channels_last()
    learn.fit(1, cbs=[cb])
    assert cb.ok and model[0].weight.is_contiguous(memory_format=torch.channels_last)


@cuda
def test_fp16_on_cuda(make_learner):
    dls, model = _images()
    learn = make_learner(dls=dls, model=model, loss_func=nn.CrossEntropyLoss(), device="cuda").to_fp16()
    assert isinstance(learn.precision, FP16)
    cb = SeeDtypes()
    learn.fit(2, cbs=[cb])
    assert cb.pred_dtypes == {torch.float16}
    assert all(torch.isfinite(p).all() for p in learn.model.parameters())
    learn.to("cpu")
    with pytest.raises(GraftzooError, match="CUDA device"):
        learn.fit(1)


@cuda
def test_bf16_on_cuda_and_checkpoint_across_devices(make_learner, tmp_path):
    dls, model = _images()
    learn = make_learner(dls=dls, model=model, loss_func=nn.CrossEntropyLoss(), device="cuda").to_bf16().to_channels_last()
    learn.fit(1)
    assert next(learn.model.parameters()).is_cuda
    learn.save("gpu")
    learn.to("cpu")
    assert all(not v.is_cuda for st in learn.opt.state.values() for k, v in st.items() if torch.is_tensor(v))
    learn.load("gpu")
    learn.to_fp32().fit(1)
