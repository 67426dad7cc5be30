"""nn: neural-network modules, layers, losses, initialisation and optimizers on autograd.

    import nn
    model = nn.Sequential(nn.Linear(784, 256), nn.BatchNorm1d(256), nn.LeakyReLU(0.01),
                          nn.Linear(256, 10))
    loss = nn.CrossEntropyLoss()(model(x), labels)

Names, formulas and defaults follow PyTorch's, so a model built with the same weights
gives the same outputs and gradients. ``nn.manual_seed`` (autograd's default generator,
the same as ``autograd.manual_seed``) seeds initialisation, dropout, DataLoader shuffles,
splits without ``seed=`` and ``fit``, so one seed reproduces a whole run.
"""
from .engine_check import check_autograd

check_autograd()  # before anything imports from autograd: name a clash with HIPS autograd

from autograd import manual_seed  # noqa: E402

from . import ops  # registers the layer ops (conv2d, batch_norm, ...) with autograd
from . import functional, init
from .activations import *  # noqa: F401,F403
from .containers import ModuleList, Sequential
from .layers import *  # noqa: F401,F403
from .module import IncompatibleKeys, Module, StateDictError
from .parameter import Parameter
from .summary import ModelSummary
from .losses import *  # noqa: F401,F403
from . import optim, utils
from .checkpoint import save, load
from . import data, datasets, training
from .training import evaluate, fit, predict
