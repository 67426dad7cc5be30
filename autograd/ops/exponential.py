"""Exponentials, logarithms and powers beyond exp/log/sqrt, with NumPy's names.

Constants such as log(2) are Python floats, so float32 inputs stay float32 (a NumPy
float64 scalar would promote them).
"""
import math

import numpy as np

from ..batching import batch_elementwise
from ..forward_mode import elementwise_jvp
from ..op import Op, functions, register

LN2 = math.log(2.0)
LN10 = math.log(10.0)


def _unary(low=-3.0, high=3.0, avoid=()):
    return lambda st: st.elementwise(1, low=low, high=high, avoid=avoid)


@register("expm1", method=True, numpy=np.expm1, sample=_unary(),
          torch=lambda torch, x: torch.expm1(x))
class Expm1(Op):
    """e**x - 1, accurate for small x."""
    jvp = elementwise_jvp
    batch_rule = batch_elementwise
    def forward(self, x):
        return np.expm1(x)

    def vjp(self, g, out, x):
        return (g * (out + 1.0),)


@register("exp2", method=True, numpy=np.exp2, sample=_unary(),
          torch=lambda torch, x: torch.exp2(x))
class Exp2(Op):
    """2**x."""
    jvp = elementwise_jvp
    batch_rule = batch_elementwise
    def forward(self, x):
        return np.exp2(x)

    def vjp(self, g, out, x):
        return (g * out * LN2,)


@register("log2", method=True, numpy=np.log2, sample=_unary(0.1, 5.0),
          torch=lambda torch, x: torch.log2(x))
class Log2(Op):
    """Base-2 logarithm."""
    jvp = elementwise_jvp
    batch_rule = batch_elementwise
    def forward(self, x):
        return np.log2(x)

    def vjp(self, g, out, x):
        return (g / (x * LN2),)


@register("log10", method=True, numpy=np.log10, sample=_unary(0.1, 5.0),
          torch=lambda torch, x: torch.log10(x))
class Log10(Op):
    """Base-10 logarithm."""
    jvp = elementwise_jvp
    batch_rule = batch_elementwise
    def forward(self, x):
        return np.log10(x)

    def vjp(self, g, out, x):
        return (g / (x * LN10),)


@register("square", method=True, numpy=np.square, sample=_unary(),
          torch=lambda torch, x: torch.square(x))
class Square(Op):
    """x * x."""
    jvp = elementwise_jvp
    batch_rule = batch_elementwise
    def forward(self, x):
        return np.square(x)

    def vjp(self, g, out, x):
        return (g * 2.0 * x,)


@register("reciprocal", method=True, numpy=np.reciprocal, sample=_unary(0.3, 3.0),
          torch=lambda torch, x: torch.reciprocal(x))
class Reciprocal(Op):
    """1 / x (for float input; NumPy's integer reciprocal truncates, so it is cast first)."""
    jvp = elementwise_jvp
    batch_rule = batch_elementwise
    def forward(self, x):
        x = np.asarray(x)
        return np.reciprocal(x if x.dtype.kind == "f" else x.astype(np.float64))

    def vjp(self, g, out, x):
        return (-g * out * out,)


def _torch_cbrt(torch, x):
    return torch.sign(x) * torch.abs(x) ** (1.0 / 3.0)


@register("cbrt", method=True, numpy=np.cbrt, sample=_unary(avoid=(0.0,)), torch=_torch_cbrt)
class Cbrt(Op):
    """Real cube root (negative for negative x). The gradient 1/(3 cbrt(x)**2) is inf at
    0; PyTorch has no cbrt, its sign(x) * |x|**(1/3) gives the same values elsewhere."""
    jvp = elementwise_jvp
    batch_rule = batch_elementwise
    def forward(self, x):
        return np.cbrt(x)

    def vjp(self, g, out, x):
        return (g / (3.0 * out * out),)


@register("logaddexp", numpy=np.logaddexp, sample=lambda st: st.elementwise(2, -5.0, 5.0),
          torch=lambda torch, x, y: torch.logaddexp(x, y))
class LogAddExp(Op):
    """log(e**x + e**y) without overflow; the gradients are the softmax weights of x, y."""
    jvp = elementwise_jvp
    batch_rule = batch_elementwise
    def forward(self, x, y):
        return np.logaddexp(x, y)

    def vjp(self, g, out, x, y):
        needs_x, needs_y = self.needs_grad
        return (g * exp(x - out) if needs_x else None), (g * exp(y - out) if needs_y else None)


@register("logaddexp2", numpy=np.logaddexp2, sample=lambda st: st.elementwise(2, -5.0, 5.0),
          torch=lambda torch, x, y: torch.logaddexp2(x, y))
class LogAddExp2(Op):
    """log2(2**x + 2**y) without overflow."""
    jvp = elementwise_jvp
    batch_rule = batch_elementwise
    def forward(self, x, y):
        return np.logaddexp2(x, y)

    def vjp(self, g, out, x, y):
        needs_x, needs_y = self.needs_grad
        return ((g * exp2(x - out) if needs_x else None),
                (g * exp2(y - out) if needs_y else None))


def _chosen_tangent(tangents, out, x_wins):
    """The tangent of fmax/fmin: that of the input each element was taken from (x on a
    tie or where y is NaN, as the VJP sends the gradient)."""
    zero = np.zeros((), dtype=out.dtype)
    t_x, t_y = tangents
    return where(x_wins, zero if t_x is None else t_x, zero if t_y is None else t_y)


def _isnan(y):
    (isnan,) = functions("isnan")  # registered in rounding.py, imported after this module
    return isnan(y)


@register("fmax", numpy=np.fmax, sample=lambda st: st.untied_pair(),
          torch=lambda torch, x, y: torch.fmax(x, y))
class FMax(Op):
    """Elementwise max that ignores NaN (NaN only where both are NaN). As in PyTorch's
    fmax, a tie (or a NaN y) sends the whole gradient to x."""
    batch_rule = batch_elementwise
    def forward(self, x, y):
        self.x_wins = (x >= y) | np.isnan(y)
        return np.fmax(x, y)

    def vjp(self, g, out, x, y):
        zero = np.zeros((), dtype=out.dtype)
        needs_x, needs_y = self.needs_grad
        return ((where(self.x_wins, g, zero) if needs_x else None),
                (where(self.x_wins, zero, g) if needs_y else None))

    def jvp(self, tangents, out, x, y):
        return _chosen_tangent(tangents, out, where(_isnan(y), True, x >= y))


@register("fmin", numpy=np.fmin, sample=lambda st: st.untied_pair(),
          torch=lambda torch, x, y: torch.fmin(x, y))
class FMin(Op):
    """Elementwise min that ignores NaN (NaN only where both are NaN). As in PyTorch's
    fmin, a tie (or a NaN y) sends the whole gradient to x."""
    batch_rule = batch_elementwise
    def forward(self, x, y):
        self.x_wins = (x <= y) | np.isnan(y)
        return np.fmin(x, y)

    def vjp(self, g, out, x, y):
        zero = np.zeros((), dtype=out.dtype)
        needs_x, needs_y = self.needs_grad
        return ((where(self.x_wins, g, zero) if needs_x else None),
                (where(self.x_wins, zero, g) if needs_y else None))

    def jvp(self, tangents, out, x, y):
        return _chosen_tangent(tangents, out, where(_isnan(y), True, x <= y))


exp, exp2, where = functions("exp", "exp2", "where")
