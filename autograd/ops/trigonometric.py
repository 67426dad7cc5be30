"""Trigonometric and hyperbolic functions beyond sin/cos/tanh, with NumPy's names.

Derivatives are the textbook ones, written with registered ops so they differentiate
again. At the edges of a domain (arcsin at +-1, arccosh at 1, arctanh at +-1) the
gradient is +-inf or NaN, as in PyTorch; the samples keep a margin from those points.
"""
import math

import numpy as np

from ..batching import batch_elementwise
from ..forward_mode import elementwise_jvp
from ..op import Op, functions, register, value_of


def _unary(low=-3.0, high=3.0, avoid=()):
    return lambda st: st.elementwise(1, low=low, high=high, avoid=avoid)


@register("tan", method=True, numpy=np.tan, sample=_unary(-1.3, 1.3),
          torch=lambda torch, x: torch.tan(x))
class Tan(Op):
    """Tangent; poles at pi/2 + k pi."""
    jvp = elementwise_jvp
    batch_rule = batch_elementwise
    def forward(self, x):
        return np.tan(x)

    def vjp(self, g, out, x):
        return (g * (1.0 + out * out),)


@register("arcsin", method=True, numpy=np.arcsin, sample=_unary(-0.9, 0.9),
          torch=lambda torch, x: torch.asin(x))
class ArcSin(Op):
    """Inverse sine on [-1, 1]; the gradient 1/sqrt(1 - x**2) is inf at +-1."""
    jvp = elementwise_jvp
    batch_rule = batch_elementwise
    def forward(self, x):
        return np.arcsin(x)

    def vjp(self, g, out, x):
        return (g / sqrt(1.0 - x * x),)


@register("arccos", method=True, numpy=np.arccos, sample=_unary(-0.9, 0.9),
          torch=lambda torch, x: torch.acos(x))
class ArcCos(Op):
    """Inverse cosine on [-1, 1]; the gradient -1/sqrt(1 - x**2) is -inf at +-1."""
    jvp = elementwise_jvp
    batch_rule = batch_elementwise
    def forward(self, x):
        return np.arccos(x)

    def vjp(self, g, out, x):
        return (-g / sqrt(1.0 - x * x),)


@register("arctan", method=True, numpy=np.arctan, sample=_unary(),
          torch=lambda torch, x: torch.atan(x))
class ArcTan(Op):
    """Inverse tangent."""
    jvp = elementwise_jvp
    batch_rule = batch_elementwise
    def forward(self, x):
        return np.arctan(x)

    def vjp(self, g, out, x):
        return (g / (1.0 + x * x),)


@register("sinh", method=True, numpy=np.sinh, sample=_unary(),
          torch=lambda torch, x: torch.sinh(x))
class Sinh(Op):
    """Hyperbolic sine."""
    jvp = elementwise_jvp
    batch_rule = batch_elementwise
    def forward(self, x):
        return np.sinh(x)

    def vjp(self, g, out, x):
        return (g * cosh(x),)


@register("cosh", method=True, numpy=np.cosh, sample=_unary(),
          torch=lambda torch, x: torch.cosh(x))
class Cosh(Op):
    """Hyperbolic cosine."""
    jvp = elementwise_jvp
    batch_rule = batch_elementwise
    def forward(self, x):
        return np.cosh(x)

    def vjp(self, g, out, x):
        return (g * sinh(x),)


@register("arcsinh", method=True, numpy=np.arcsinh, sample=_unary(),
          torch=lambda torch, x: torch.asinh(x))
class ArcSinh(Op):
    """Inverse hyperbolic sine."""
    jvp = elementwise_jvp
    batch_rule = batch_elementwise
    def forward(self, x):
        return np.arcsinh(x)

    def vjp(self, g, out, x):
        return (g / sqrt(x * x + 1.0),)


@register("arccosh", method=True, numpy=np.arccosh, sample=_unary(1.1, 4.0),
          torch=lambda torch, x: torch.acosh(x))
class ArcCosh(Op):
    """Inverse hyperbolic cosine on [1, inf); the gradient is inf at 1."""
    jvp = elementwise_jvp
    batch_rule = batch_elementwise
    def forward(self, x):
        return np.arccosh(x)

    def vjp(self, g, out, x):
        return (g / sqrt(x * x - 1.0),)


@register("arctanh", method=True, numpy=np.arctanh, sample=_unary(-0.9, 0.9),
          torch=lambda torch, x: torch.atanh(x))
class ArcTanh(Op):
    """Inverse hyperbolic tangent on (-1, 1); the gradient is inf at +-1."""
    jvp = elementwise_jvp
    batch_rule = batch_elementwise
    def forward(self, x):
        return np.arctanh(x)

    def vjp(self, g, out, x):
        return (g / (1.0 - x * x),)


@register("sinc", numpy=np.sinc, sample=_unary(avoid=(0.0,)),
          torch=lambda torch, x: torch.sinc(x))
class Sinc(Op):
    """Normalized sinc, sin(pi x) / (pi x), with sinc(0) = 1 and sinc'(0) = 0. As in
    PyTorch the first derivative is masked to 0 at x = 0, so the second derivative
    there is 0 rather than -pi**2 / 3."""
    jvp = elementwise_jvp
    batch_rule = batch_elementwise
    def forward(self, x):
        return np.sinc(x)

    def vjp(self, g, out, x):
        # d sinc = (cos(pi x) - sinc(x)) / x; the limit at x = 0 is 0
        at_zero = value_of(x) == 0
        if not at_zero.any():
            return (g * (cos(math.pi * x) - out) / x,)
        safe_x = where(at_zero, 1.0, x)
        return (g * where(at_zero, 0.0, (cos(math.pi * safe_x) - out) / safe_x),)


@register("arctan2", numpy=np.arctan2,
          sample=lambda st: st.elementwise(2, low=0.2, high=3.0, low2=-3.0, high2=3.0),
          torch=lambda torch, y, x: torch.atan2(y, x))
class ArcTan2(Op):
    """Angle of the point (x, y), in (-pi, pi]. The gradient is NaN at the origin
    (0/0, as in PyTorch)."""
    jvp = elementwise_jvp
    batch_rule = batch_elementwise
    def forward(self, y, x):
        return np.arctan2(y, x)

    def vjp(self, g, out, y, x):
        scale = g / (x * x + y * y)
        needs_y, needs_x = self.needs_grad
        return (scale * x if needs_y else None), (-scale * y if needs_x else None)


@register("hypot", numpy=np.hypot,
          sample=lambda st: st.elementwise(2, low=0.2, high=3.0, low2=-3.0, high2=3.0),
          torch=lambda torch, x, y: torch.hypot(x, y))
class Hypot(Op):
    """sqrt(x**2 + y**2) without overflow. The gradient is NaN at the origin (0/0, as in
    PyTorch)."""
    jvp = elementwise_jvp
    batch_rule = batch_elementwise
    def forward(self, x, y):
        return np.hypot(x, y)

    def vjp(self, g, out, x, y):
        scale = g / out
        needs_x, needs_y = self.needs_grad
        return (scale * x if needs_x else None), (scale * y if needs_y else None)


sqrt, sin, cos, sinh, cosh, where = functions("sqrt", "sin", "cos", "sinh", "cosh", "where")
