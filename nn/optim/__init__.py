"""Optimizers, gradient clipping and learning-rate schedulers, with PyTorch's update rules.

    opt = nn.optim.Adam(model.parameters(), lr=1e-3)
    opt.zero_grad(); loss.backward(); opt.step()
"""
from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from ..utils.clip_grad import clip_grad_norm_, clip_grad_value_  # also nn.utils, as in PyTorch
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "RMSprop", "Adagrad", "Adam", "AdamW", "clip_grad_norm_",
           "clip_grad_value_", "lr_scheduler"]
