"""softmax and log_softmax along an axis, shifted by the maximum so large inputs are safe.

Both are dedicated ops for speed and stability; their VJPs use the op's output and
registered functions only, so they are differentiable again.
"""
import numpy as np

from ..batching import batch_axis
from ..op import Op, register
from .axes import normalize_axes
from .elementwise import exp
from .reduce import sum


def _floating(x):
    """x as a floating array (integers become float64, as np.exp would make them)."""
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def _softmax_sample(strategies):
    """``((x,), {axis})`` with ndim >= 1 (axis omitted sometimes: the default -1)."""
    st, arrays, shapes = strategies.st, strategies.arrays, strategies.shapes

    @st.composite
    def draw_case(draw):
        x = draw(arrays(shapes(min_dims=1), low=-5.0, high=5.0))
        if draw(st.booleans()):
            return (x,), {}
        return (x,), {"axis": draw(st.integers(-x.ndim, x.ndim - 1))}
    return draw_case()


@register("softmax", sample=_softmax_sample,
          torch=lambda torch, x, axis=-1: torch.softmax(x, dim=axis))
class Softmax(Op):
    """exp(x) / sum(exp(x)) along ``axis`` (default -1), computed from x - max(x)."""
    def forward(self, x, *, axis=-1):
        x = _floating(x)
        normalize_axes(axis, x.ndim, "softmax")
        self.axis = axis
        exps = x - np.max(x, axis=axis, keepdims=True)
        np.exp(exps, out=exps)
        exps /= exps.sum(axis=axis, keepdims=True)
        return exps

    def jvp(self, tangents, out, x):
        tangent = tangents[0]
        return out * (tangent - sum(tangent * out, axis=self.params.get("axis", -1), keepdims=True))

    batch_rule = batch_axis(-1)

    def vjp(self, g, out, x):
        # J^T g = out * (g - <g, out>) along the axis
        return (out * (g - sum(g * out, axis=self.axis, keepdims=True)),)


@register("log_softmax", sample=_softmax_sample,
          torch=lambda torch, x, axis=-1: torch.log_softmax(x, dim=axis))
class LogSoftmax(Op):
    """x - logsumexp(x) along ``axis`` (default -1), computed from x - max(x)."""
    def forward(self, x, *, axis=-1):
        x = _floating(x)
        normalize_axes(axis, x.ndim, "log_softmax")
        self.axis = axis
        shifted = x - np.max(x, axis=axis, keepdims=True)
        shifted -= np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        return shifted

    def jvp(self, tangents, out, x):
        tangent = tangents[0]
        return tangent - sum(exp(out) * tangent, axis=self.params.get("axis", -1), keepdims=True)

    batch_rule = batch_axis(-1)

    def vjp(self, g, out, x):
        # J^T g = g - softmax(x) * sum(g) along the axis, with softmax = exp(out)
        return (g - exp(out) * sum(g, axis=self.axis, keepdims=True),)

