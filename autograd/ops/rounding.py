"""Rounding, modular arithmetic and float classification: piecewise constant results.

Their derivative is zero wherever it exists, so like ``sign`` and ``argmax`` they are
registered as non-differentiable: the result records no graph, and asking it for a
gradient raises "does not require grad". (PyTorch instead returns zero gradients for
floor/ceil/round/trunc; the values are the same.)
"""
import numpy as np

from ..batching import batch_elementwise
from ..op import Op, register


def _unary(low=-3.0, high=3.0):
    return lambda st: st.elementwise(1, low=low, high=high)


class _Unary(Op):
    """One NumPy ufunc applied elementwise, nothing recorded."""
    batch_rule = batch_elementwise
    differentiable = False
    ufunc = None

    def forward(self, x):
        return type(self).ufunc(x)


@register("floor", method=True, numpy=np.floor, sample=_unary(),
          torch=lambda torch, x: torch.floor(x))
class Floor(_Unary):
    """Largest integer <= x (as a float). Non-differentiable: records no gradient."""
    ufunc = np.floor


@register("ceil", method=True, numpy=np.ceil, sample=_unary(),
          torch=lambda torch, x: torch.ceil(x))
class Ceil(_Unary):
    """Smallest integer >= x (as a float). Non-differentiable: records no gradient."""
    ufunc = np.ceil


@register("trunc", method=True, numpy=(np.trunc, np.fix), sample=_unary(),
          torch=lambda torch, x: torch.trunc(x))
class Trunc(_Unary):
    """x rounded towards zero. Non-differentiable: records no gradient."""
    ufunc = np.trunc


@register("isfinite", numpy=np.isfinite, sample=_unary(),
          torch=lambda torch, x: torch.isfinite(x))
class IsFinite(_Unary):
    """True where x is neither inf nor NaN (boolean, no gradient)."""
    ufunc = np.isfinite


@register("isnan", numpy=np.isnan, sample=_unary(), torch=lambda torch, x: torch.isnan(x))
class IsNan(_Unary):
    """True where x is NaN (boolean, no gradient)."""
    ufunc = np.isnan


@register("isinf", numpy=np.isinf, sample=_unary(), torch=lambda torch, x: torch.isinf(x))
class IsInf(_Unary):
    """True where x is +-inf (boolean, no gradient)."""
    ufunc = np.isinf


@register("round", method=True, numpy=(np.round, np.around),
          sample=lambda st: st.elementwise(1, low=-30.0, high=30.0).flatmap(
              lambda sample: st.st.sampled_from([0, 1, -1]).map(
                  lambda decimals: (sample[0], {"decimals": decimals}))),
          torch=lambda torch, x, decimals=0: torch.round(x, decimals=decimals))
class Round(Op):
    """x rounded to ``decimals`` places, halves to even (as NumPy and PyTorch).
    Non-differentiable: records no gradient."""
    batch_rule = batch_elementwise
    differentiable = False

    def forward(self, x, *, decimals=0):
        if not isinstance(decimals, (int, np.integer)) or isinstance(decimals, bool):
            raise TypeError(f"round: decimals must be an int, got {decimals!r}")
        return np.round(x, decimals)


def _divisor_sample(st):
    return st.elementwise(2, low=-5.0, high=5.0, low2=0.5, high2=3.0)


@register("mod", numpy=(np.mod, np.remainder), operators=[("__mod__", "__rmod__")],
          sample=_divisor_sample, torch=lambda torch, x, y: torch.remainder(x, y))
class Mod(Op):
    """x - floor(x / y) * y: the remainder with the sign of the divisor (Python's %).
    Non-differentiable here: records no gradient."""
    batch_rule = batch_elementwise
    differentiable = False

    def forward(self, x, y):
        return np.mod(x, y)


@register("floor_divide", numpy=np.floor_divide, operators=[("__floordiv__", "__rfloordiv__")],
          sample=_divisor_sample, torch=lambda torch, x, y: torch.floor_divide(x, y))
class FloorDivide(Op):
    """floor(x / y) (Python's //). Non-differentiable: records no gradient."""
    batch_rule = batch_elementwise
    differentiable = False

    def forward(self, x, y):
        return np.floor_divide(x, y)
