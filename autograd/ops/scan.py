"""Scans along an axis: cumsum, cumprod, and diff (NumPy's names and ``axis=None``
flattening)."""
import numpy as np

from ..batching import batch_axis_or_flattened
from ..forward_mode import linear_jvp
from ..op import Op, functions, register, value_of
from ..tensor import Tensor
from .axis_checks import axis_in_range


def _scan_axis(x, axis, op_name):
    """The axis to scan, or None to scan the flattened input (NumPy's default)."""
    if axis is None:
        return None
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{op_name}: axis must be an int or None, got {axis!r}")
    return axis_in_range(axis, np.shape(x), op_name)


def _reverse_cumsum(g, axis):
    """sum of g[j] for j >= i along ``axis``: the adjoint of cumsum."""
    return flip(cumsum(flip(g, axis=axis), axis=axis), axis=axis)


def _torch_scan(name):
    def compute(torch, x, axis=None):
        return getattr(torch, name)(x.reshape(-1) if axis is None else x, dim=axis or 0)
    return compute


def _scan_sample(st):
    return st.reduction(allow_tuple=False).map(
        lambda sample: (sample[0], {"axis": sample[1]["axis"]}))


@register("cumsum", method=True, numpy=np.cumsum, sample=_scan_sample,
          torch=_torch_scan("cumsum"))
class CumSum(Op):
    """Running sum along ``axis`` (of the flattened input when axis is None)."""
    jvp = linear_jvp
    batch_rule = batch_axis_or_flattened(None)
    vjp_uses_values = False

    def forward(self, x, *, axis=None):
        x = np.asarray(x)
        self.axis = _scan_axis(x, axis, "cumsum")
        self.shape = x.shape
        return np.cumsum(x, axis=self.axis)

    def vjp(self, g, out, x):
        grad = _reverse_cumsum(g, 0 if self.axis is None else self.axis)
        return (grad.reshape(self.shape) if self.axis is None else grad,)


def _cumprod_sample(st):
    """Arrays with magnitudes in [0.5, 1.5] and some exact zeros, an int axis or None."""
    return st.prod_args().map(lambda sample: (
        sample[0], {"axis": sample[1]["axis"] if not isinstance(sample[1]["axis"], tuple)
                    else sample[1]["axis"][0]}))


@register("cumprod", method=True, numpy=np.cumprod, sample=_cumprod_sample,
          torch=_torch_scan("cumprod"))
class CumProd(Op):
    """Running product along ``axis`` (of the flattened input when axis is None).

    The gradient is right where elements are zero: without zeros it is
    reverse_cumsum(g * out) / x; with zeros each element's gradient is the sum over
    later outputs of the product of the other factors, computed without dividing
    (O(n**2) per slice, only when a slice holds a zero), as PyTorch does.
    """
    batch_rule = batch_axis_or_flattened(None)
    def forward(self, x, *, axis=None):
        x = np.asarray(x)
        self.axis = _scan_axis(x, axis, "cumprod")
        self.shape = x.shape
        return np.cumprod(x, axis=self.axis)

    def vjp(self, g, out, x):
        axis = 0 if self.axis is None else self.axis
        if self.axis is None:
            x = x.reshape(-1)
        if np.all(value_of(x) != 0):
            grad = _reverse_cumsum(g * out, axis) / x
        else:
            grad = _cumprod_grad_with_zeros(g, x, axis)
        return (grad.reshape(self.shape) if self.axis is None else grad,)

    def jvp(self, tangents, out, x):
        # d out_i = sum_{j <= i} (product of x_k, k <= i, k != j) t_j: out * cumsum(t / x)
        # without zeros; with zeros the products are formed without dividing, as in the VJP
        axis, t = self.params.get("axis"), tangents[0]
        if axis is None:
            x, t, axis = x.reshape(-1), t.reshape(-1), 0
        if np.all(value_of(x) != 0):
            return out * cumsum(t / x, axis=axis)
        return _cumprod_tangent_with_zeros(t, x, axis)


def _cumprod_grad_with_zeros(g, x, axis):
    """d/dx_j of sum_i g_i prod_{k<=i} x_k, without division (see ``_partial_products``)."""
    g, x = moveaxis(g, axis, -1), moveaxis(x, axis, -1)
    grad = (_partial_products(x) * expand_dims(g, -2)).sum(axis=-1)
    return moveaxis(grad, -1, axis)


def _cumprod_tangent_with_zeros(t, x, axis):
    """sum over j <= i of t_j times the product of x_k (k <= i, k != j), without division."""
    t, x = moveaxis(t, axis, -1), moveaxis(x, axis, -1)
    tangent = (_partial_products(x) * expand_dims(t, -1)).sum(axis=-2)
    return moveaxis(tangent, -1, axis)


def _partial_products(x):
    """(..., n, n) with [j, i] = d out_i / d x_j = prod_{k<=i, k!=j} x_k for j <= i, else 0
    (x scanned along its last axis): row j is the cumprod of x with x_j replaced by 1, and
    only the outputs i >= j depend on x_j."""
    size = x.shape[-1]
    eye = np.eye(size, dtype=value_of(x).dtype)
    rows = expand_dims(x, -2) * (1.0 - eye) + eye
    later = np.triu(np.ones((size, size), dtype=eye.dtype))
    return cumprod(rows, axis=-1) * later


def _torch_diff(torch, a, n=1, axis=-1, prepend=None, append=None):
    for _ in range(n):
        a = torch.diff(a, dim=axis, prepend=prepend, append=append)
        prepend = append = None
    return a


def _diff_sample(st):
    return st.st.tuples(st.arrays(st.shapes(min_dims=1, max_dims=3)), st.st.integers(0, 3),
                        st.st.booleans()).map(lambda drawn: ((drawn[0],), {
                            "n": drawn[1], "axis": -1 if drawn[2] else 0}))


@register("diff", numpy=np.diff, sample=_diff_sample, torch=_torch_diff)
def diff(a, n=1, axis=-1, prepend=None, append=None):
    """n-th discrete difference along ``axis``: out[i] = a[i + 1] - a[i], applied n times
    (``prepend``/``append`` values are joined to ``a`` first, as in NumPy). Built from
    slicing and subtraction, so it is differentiable to any order."""
    x = a if isinstance(a, Tensor) else np.asarray(a)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"diff: n must be a non-negative int, got {n!r}")
    if x.ndim == 0:
        raise ValueError("diff: input must be at least 1-D, got a 0-d one")
    axis = axis_in_range(axis, x.shape, "diff")
    parts = [x]
    for position, extra in ((0, prepend), (2, append)):
        if extra is not None:
            if np.ndim(value_of(extra)) == 0:  # a scalar is broadcast to one slice
                shape = list(x.shape)
                shape[axis] = 1
                extra = broadcast_to(extra, tuple(shape))
            parts.insert(0 if position == 0 else len(parts), extra)
    if len(parts) > 1:
        x = concatenate(parts, axis=axis)
    lead = (slice(None),) * axis
    for _ in range(n):
        x = x[lead + (slice(1, None),)] - x[lead + (slice(None, -1),)]
    return x


(cumsum, cumprod, flip, moveaxis, expand_dims, broadcast_to, concatenate) = functions(
    "cumsum", "cumprod", "flip", "moveaxis", "expand_dims", "broadcast_to", "concatenate")
