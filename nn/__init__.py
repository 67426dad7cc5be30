"""nn: neural-network modules, layers, losses, initialisation and optimizers on autograd.

    import nn
    model = nn.Sequential(nn.Linear(784, 256), nn.BatchNorm1d(256), nn.LeakyReLU(0.01),
                          nn.Linear(256, 10))
    loss = nn.CrossEntropyLoss()(model(x), labels)

Names, formulas and defaults follow PyTorch's, so a model built with the same weights
gives the same outputs and gradients. ``nn.manual_seed`` seeds initialisation and
dropout (autograd's default generator).
"""
from autograd.factories import manual_seed

from . import ops  # registers the layer ops (conv2d, batch_norm, ...) with autograd
from . import functional, init
from .activations import *  # noqa: F401,F403
from .containers import ModuleList, Sequential
from .layers import *  # noqa: F401,F403
from .module import IncompatibleKeys, Module, StateDictError
from .parameter import Parameter
from .summary import ModelSummary
from .losses import *  # noqa: F401,F403
from . import optim
from .checkpoint import save, load
from .functional_call import functional_call
from . import data, datasets, training
from .training import evaluate, fit, predict
