"""Reductions over ``axis`` (int, tuple or None) with ``keepdims``, as in NumPy."""
import numpy as np

from ..op import Op, functions, register


def normalize_axes(axis, ndim, op_name):
    """``axis`` as a sorted tuple of non-negative ints; raises ValueError naming the op."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    result = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{op_name}: axis must be an int, a tuple of ints or None, got {axis!r}")
        if not -ndim <= a < max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise ValueError(f"{op_name}: axis {a} is out of range for a {ndim}-d input")
        result.append(int(a) % max(ndim, 1))
    if len(set(result)) != len(result):
        raise ValueError(f"{op_name}: axis {axis!r} repeats an axis")
    return tuple(sorted(result)) if ndim else ()


def expand_reduced(g, shape, axis, keepdims):
    """Broadcast a reduced gradient back to the input's ``shape`` (differentiably)."""
    if not keepdims:
        axes = normalize_axes(axis, len(shape), "reduction")
        kept = list(shape)
        for a in axes:
            kept[a] = 1
        g = g.reshape(tuple(kept))
    return broadcast_to(g, shape)


@register("sum", method=True, numpy=np.sum,
          sample=lambda st: st.reduction(),
          torch=lambda torch, x, axis=None, keepdims=False:
              x.sum() if axis is None and not keepdims else torch.sum(x, dim=axis if axis is not None else tuple(range(x.ndim)), keepdim=keepdims))
class Sum(Op):
    """Sum over ``axis``."""
    def forward(self, x, *, axis=None, keepdims=False):
        x = np.asarray(x)
        normalize_axes(axis, x.ndim, "sum")
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        return np.sum(x, axis=axis, keepdims=keepdims)

    def vjp(self, g, out, x):
        return (expand_reduced(g, self.shape, self.axis, self.keepdims),)


@register("mean", method=True, numpy=np.mean,
          sample=lambda st: st.reduction(),
          torch=lambda torch, x, axis=None, keepdims=False:
              x.mean() if axis is None and not keepdims else torch.mean(x, dim=axis if axis is not None else tuple(range(x.ndim)), keepdim=keepdims))
class Mean(Op):
    """Arithmetic mean over ``axis``."""
    def forward(self, x, *, axis=None, keepdims=False):
        x = np.asarray(x)
        axes = normalize_axes(axis, x.ndim, "mean")
        self.shape, self.axis, self.keepdims = x.shape, axis, keepdims
        self.count = int(np.prod([x.shape[a] for a in axes])) if axes else 1
        return np.mean(x, axis=axis, keepdims=keepdims)

    def vjp(self, g, out, x):
        return (expand_reduced(g, self.shape, self.axis, self.keepdims) / self.count,)


sum, mean = functions("sum", "mean")
from .shape import broadcast_to  # noqa: E402
