"""Activation ops that autograd's core does not define: leaky_relu, silu, gelu.

Each is one op with a closed-form VJP (one graph node per activation rather than a
chain of small ops). The VJPs use registered functions only, so they stay
differentiable under ``create_graph=True``; saved forward values are used only on a
plain backward, where everything is an ndarray.
"""
import math

import numpy as np

from autograd import Tensor, exp, sigmoid, tanh, where
from autograd.extend import Op, batch_elementwise, functions, register, tangent_sum, value_of

_erf_impl = None


def _erf(x):
    """erf elementwise: SciPy's (vectorised) when installed, else math.erf per element
    (exact, slower). SciPy is looked up on first use, so ``import nn`` stays fast."""
    global _erf_impl
    if _erf_impl is None:
        try:
            from scipy.special import erf as _erf_impl
        except ImportError:
            elementwise = np.frompyfunc(math.erf, 1, 1)

            def _erf_impl(values):
                values = np.asarray(values)
                dtype = values.dtype if values.dtype.kind == "f" else np.float64
                return elementwise(values).astype(dtype)
    return _erf_impl(x)


SQRT_HALF = math.sqrt(0.5)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
# tanh approximation: gelu(x) ~ x/2 (1 + tanh(k (x + c x^3))), with PyTorch's constants.
TANH_K = math.sqrt(2.0 / math.pi)
TANH_C = 0.044715
APPROXIMATIONS = ("none", "tanh")


def _unary(low=-3.0, high=3.0, avoid=(), params=None):
    return lambda st: st.elementwise(1, low=low, high=high, avoid=avoid, params=params)


@register("leaky_relu", sample=_unary(avoid=(0.0,), params=dict(negative_slope=0.1)),
          torch=lambda torch, x, negative_slope=0.01:
              torch.nn.functional.leaky_relu(x, negative_slope))
class LeakyRelu(Op):
    """x where x > 0, else negative_slope * x. At 0 the gradient is negative_slope (PyTorch)."""

    def forward(self, x, *, negative_slope=0.01):
        if type(x) is not np.ndarray:
            x = np.asarray(x)
        # A Python float, so that a NumPy float64 slope cannot promote float32 data.
        negative_slope = self.negative_slope = float(negative_slope)
        # max(x, a x) is the same function for 0 < a <= 1 (a = 0 would turn inf into
        # max(inf, inf * 0) = nan)
        if 0.0 < negative_slope <= 1.0:
            return np.maximum(x, x * negative_slope)
        return np.where(x > 0, x, x * negative_slope)

    def jvp(self, tangents, out, x):
        return tangents[0] * where(x > 0, 1.0, float(self.params.get("negative_slope", 0.01)))

    batch_rule = batch_elementwise

    def vjp(self, g, out, x):
        return (g * _leaky_relu_slope(value_of(x), self.negative_slope),)


def _leaky_relu_slope(x, negative_slope):
    """leaky_relu'(x): exactly 1 where x > 0 and negative_slope elsewhere, without
    np.where, which is several times slower on the random masks that activations give."""
    positive = x > 0
    slope = positive.astype(x.dtype)
    if 0.0 <= negative_slope <= 1.0:  # max(0, a) = a and max(1, a) = 1: one pass
        return np.maximum(slope, negative_slope)
    slope += np.multiply(~positive, negative_slope, dtype=x.dtype)
    return slope


@register("silu", sample=_unary(low=-6.0, high=6.0),
          torch=lambda torch, x: torch.nn.functional.silu(x))
class Silu(Op):
    """x * sigmoid(x) (also called swish)."""

    def forward(self, x):
        self.sig = sigmoid(np.asarray(x))
        return x * self.sig

    def jvp(self, tangents, out, x):
        sig = sigmoid(x)
        return tangents[0] * sig * (1.0 + x * (1.0 - sig))

    batch_rule = batch_elementwise

    def vjp(self, g, out, x):
        sig = sigmoid(x) if isinstance(x, Tensor) else self.sig
        return (g * sig * (1.0 + x * (1.0 - sig)),)


def _check_approximate(approximate):
    if approximate not in APPROXIMATIONS:
        raise ValueError(f"gelu: approximate must be one of {APPROXIMATIONS}, got {approximate!r}")


@register("gelu", sample=lambda st: st.elementwise(1, low=-4.0, high=4.0).flatmap(
              lambda case: st.st.sampled_from(APPROXIMATIONS).map(
                  lambda approximate: (case[0], dict(approximate=approximate)))),
          torch=lambda torch, x, approximate="none":
              torch.nn.functional.gelu(x, approximate=approximate))
class Gelu(Op):
    """x * Phi(x), Phi the standard normal CDF; ``approximate="tanh"`` uses PyTorch's
    x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""

    def forward(self, x, *, approximate="none"):
        _check_approximate(approximate)
        self.approximate = approximate
        x = np.asarray(x)
        if approximate == "tanh":
            return 0.5 * x * (1.0 + np.tanh(TANH_K * (x + TANH_C * x * x * x)))
        return x * (0.5 * (1.0 + _erf(x * SQRT_HALF)))

    def jvp(self, tangents, out, x):
        return gelu_backward(tangents[0], x, approximate=self.params.get("approximate", "none"))

    batch_rule = batch_elementwise

    def vjp(self, g, out, x):
        return (gelu_backward(g, x, approximate=self.approximate),)


@register("gelu_backward", sample=lambda st: st.elementwise(2, low=-4.0, high=4.0).flatmap(
              lambda case: st.st.sampled_from(APPROXIMATIONS).map(
                  lambda approximate: (case[0], dict(approximate=approximate)))),
          torch=lambda torch, g, x, approximate="none":
              torch.ops.aten.gelu_backward(g, x, approximate=approximate))
class GeluBackward(Op):
    """g * gelu'(x): the VJP of gelu as an op of its own, so that gelu can be
    differentiated twice (its VJP needs Phi, which no other registered op gives)."""

    def forward(self, g, x, *, approximate="none"):
        _check_approximate(approximate)
        self.approximate = approximate
        x = np.asarray(x)
        if approximate == "tanh":
            x_squared = x * x
            t = np.tanh(TANH_K * (x + TANH_C * x_squared * x))
            inner_slope = TANH_K * (1.0 + 3.0 * TANH_C * x_squared)
            return g * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * inner_slope)
        cdf = 0.5 * (1.0 + _erf(x * SQRT_HALF))
        pdf = INV_SQRT_2PI * np.exp(-0.5 * x * x)
        return g * (cdf + x * pdf)

    def jvp(self, tangents, out, g, x):
        t_g, t_x = tangents
        approximate = self.params.get("approximate", "none")
        return tangent_sum(gelu_backward(t_g, x, approximate=approximate) if t_g is not None else None,
                           t_x * g * _gelu_second_derivative(x, approximate)
                           if t_x is not None else None)

    batch_rule = batch_elementwise

    def vjp(self, u, out, g, x):
        needs_g, needs_x = self.needs_grad
        grad_g = gelu_backward(u, x, approximate=self.approximate) if needs_g else None
        grad_x = u * g * _gelu_second_derivative(x, self.approximate) if needs_x else None
        return grad_g, grad_x


def _gelu_second_derivative(x, approximate):
    """gelu''(x), from registered functions (so it is differentiable in turn).

    Exact: phi(x) (2 - x^2). Tanh form, with t = tanh(u), u = k (x + c x^3):
    (1 - t^2) (u' - x t u'^2 + x u'' / 2), u' = k (1 + 3 c x^2), u'' = 6 k c x.
    """
    x_squared = x * x
    if approximate == "tanh":
        t = tanh(TANH_K * (x + TANH_C * x_squared * x))
        slope = TANH_K * (1.0 + 3.0 * TANH_C * x_squared)
        return (1.0 - t * t) * (slope - x * t * slope * slope + 3.0 * TANH_K * TANH_C * x_squared)
    return INV_SQRT_2PI * exp(-0.5 * x_squared) * (2.0 - x_squared)


leaky_relu, silu, gelu, gelu_backward = functions("leaky_relu", "silu", "gelu", "gelu_backward")
