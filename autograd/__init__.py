"""autograd: reverse-mode automatic differentiation on NumPy.

    >>> import numpy as np, autograd as ag
    >>> x = ag.Tensor(np.random.randn(3, 4), requires_grad=True)
    >>> y = (x * 2 + 1).tanh().sum()
    >>> y.backward()
    >>> x.grad.shape
    (3, 4)

Every op is registered once (``autograd.op.REGISTRY``); its module function here, its
Tensor method and its NumPy dispatch all come from that entry.
"""
from .tensor import Tensor
from .dtypes import get_default_dtype, set_default_dtype
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .op import REGISTRY, Op, register
from . import ops  # registers every op
from .factories import *  # noqa: F401,F403
from . import testing

globals().update({name: entry.function for name, entry in REGISTRY.items()})
from . import linalg  # noqa: E402  (ag.linalg.inv; registered after, so no dotted names above)

# Beyond the basics; imported after the op functions so that no op name shadows them.
from .gradients import grad  # noqa: E402
from .function import Function, FunctionCtx, once_differentiable  # noqa: E402
from .anomaly import (AnomalyError, detect_anomaly, is_anomaly_enabled,  # noqa: E402
                      set_detect_anomaly)
from . import functional  # noqa: E402

__version__ = "0.1.0"
