"""autograd: reverse-mode automatic differentiation on NumPy.

    >>> import numpy as np, autograd as ag
    >>> x = ag.Tensor(np.random.randn(3, 4), requires_grad=True)
    >>> y = (x * 2 + 1).tanh().sum()
    >>> y.backward()
    >>> x.grad.shape
    (3, 4)

The package is layered; each module imports only those above it in this list:
dtypes, grad_mode, versions -> tensor -> op (registry, apply) -> anomaly -> hooks ->
ops (families) -> inplace -> numpy_dispatch -> backward -> gradients, function,
functional, factories, extend, testing. Every op is registered once (``autograd.op``);
its module function here, its Tensor method and its NumPy dispatch all come from that
entry. ``autograd/__init__.pyi`` and ``autograd/tensor.pyi`` list the whole surface.
"""
from .tensor import Tensor
from .dtypes import get_default_dtype, set_default_dtype
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .op import REGISTRY, Op, register, public_functions
from . import ops  # registers every op
from . import inplace, numpy_dispatch, backward  # attach in-place methods, NumPy protocol, backward
from .factories import *  # noqa: F401,F403
from .gradients import grad
from .function import Function, FunctionCtx, once_differentiable
from .anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from . import functional, extend, testing
from . import linalg  # ag.linalg.inv; np.linalg on Tensors dispatches to it

__version__ = "0.1.0"


def __getattr__(name):
    """Registered ops by name (``ag.exp``): ops registered later (``nn``'s layer ops, a
    user's own) appear here too, without shadowing the names above."""
    function = public_functions().get(name)
    if function is None:
        raise AttributeError(f"module 'autograd' has no attribute {name!r}")
    return function


def __dir__():
    return sorted(set(globals()) | set(public_functions()))
