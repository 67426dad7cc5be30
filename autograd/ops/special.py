"""Special functions: erf.

SciPy's ``erf`` is used when SciPy is installed (it is optional); otherwise the
standard library's ``math.erf``, applied per element, gives the same double-precision
values more slowly. NumPy itself has no erf, so nothing dispatches here from NumPy.
"""
import math

import numpy as np

from ..batching import batch_elementwise
from ..forward_mode import elementwise_jvp
from ..op import Op, functions, register

TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

try:
    from scipy.special import erf as _erf
except ImportError:  # pragma: no cover - exercised only without SciPy
    _math_erf = np.vectorize(math.erf, otypes=[np.float64])

    def _erf(x):
        x = np.asarray(x)
        return _math_erf(x).astype(x.dtype if x.dtype.kind == "f" else np.float64, copy=False)


@register("erf", sample=lambda st: st.elementwise(1, low=-3.0, high=3.0),
          torch=lambda torch, x: torch.erf(x))
class Erf(Op):
    """Error function, 2/sqrt(pi) * integral of e**(-t**2) from 0 to x."""
    jvp = elementwise_jvp
    batch_rule = batch_elementwise
    def forward(self, x):
        return _erf(x)

    def vjp(self, g, out, x):
        return (g * TWO_OVER_SQRT_PI * exp(-(x * x)),)


exp, = functions("exp")
