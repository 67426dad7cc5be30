"""Sorting and order statistics: sort, argsort, topk, median, quantile, percentile.

``sort`` gathers by a stable argsort, so its gradient sends each output gradient back
to the element that landed there (tied elements keep their order, so each gets the
gradient of its own slot, as PyTorch's stable sort does). The order statistics are
built on ``sort`` and linear interpolation, and differentiate to any order.
"""
import numpy as np

from ..batching import batch_axis_or_flattened
from ..op import Op, functions, register, value_of
from ..tensor import Tensor
from .axis_checks import axis_in_range
from .gather import along_axis_index
from .axes import normalize_axes


def _array(x):
    return x if isinstance(x, Tensor) else np.asarray(x)


def _sort_sample(st):
    def build(drawn):
        x, data = drawn
        axis = data.draw(st.st.one_of(st.st.none(), st.st.integers(-x.ndim, x.ndim - 1)))
        return (x,), ({} if axis == -1 and data.draw(st.st.booleans()) else {"axis": axis})
    arrays = st.shapes(min_dims=1, max_dims=3).flatmap(st.distinct_arrays)
    return st.st.tuples(arrays, st.st.data()).map(build)


def _torch_sort(torch, a, axis=-1, kind=None):
    if axis is None:
        return torch.sort(a.reshape(-1), stable=True).values
    return torch.sort(a, dim=axis, stable=True).values


def _sort_axis(a, axis, op_name):
    if axis is None:
        return None
    return axis_in_range(axis, np.shape(a), op_name)


@register("sort", numpy=np.sort, sample=_sort_sample, torch=_torch_sort)
class Sort(Op):
    """Values sorted ascending along ``axis`` (the flattened input when None). NaNs go
    last, as in NumPy. The sort is stable whatever ``kind`` says, so the gradient on
    ties is deterministic: each tied element gets the gradient of the slot it lands in.
    (No Tensor.sort method: ndarray.sort sorts in place, torch's returns indices too.)"""
    batch_rule = batch_axis_or_flattened(-1)
    def forward(self, a, *, axis=-1, kind=None, order=None, stable=None):
        if order is not None:
            raise TypeError("sort: order= (structured arrays) is not supported on Tensors")
        a = np.asarray(a)
        self.shape = a.shape
        self.axis = _sort_axis(a, axis, "sort")
        if self.axis is None:
            a = a.reshape(-1)
        axis = 0 if self.axis is None else self.axis
        self.order = np.argsort(a, axis=axis, kind="stable")
        return np.take_along_axis(a, self.order, axis=axis)

    def vjp(self, g, out, a):
        axis = 0 if self.axis is None else self.axis
        # the inverse permutation: where each input element went
        rank = np.empty_like(self.order)
        positions = np.arange(self.order.shape[axis]).reshape(
            [-1 if d == axis else 1 for d in range(self.order.ndim)])
        np.put_along_axis(rank, self.order, positions, axis=axis)
        grad = g[along_axis_index(rank, rank.shape, axis)]
        return (grad.reshape(self.shape) if self.axis is None else grad,)

    def jvp(self, tangents, out, a):
        # the tangent gathered by the stable argsort that sorted a (the VJP's tie rule)
        axis, t = self.params.get("axis", -1), tangents[0]
        if axis is None:
            a, t, axis = a.reshape(-1), t.reshape(-1), 0
        order = argsort(a, axis=axis)
        if not _holds_a_batch(order):
            return take_along_axis(t, order, axis=axis)
        # under vmap the order differs per element, and a gather's index is a constant:
        # scatter instead, each tangent to its element's rank (the inverse permutation)
        zeros = np.zeros(t.shape, dtype=value_of(out).dtype)
        return put_along_axis(zeros, argsort(order, axis=axis), t, axis=axis)


def _holds_a_batch(x):
    """True for a value batched by ``vmap``: its data holds more than its (per-element)
    shape."""
    return isinstance(x, Tensor) and x.data.shape != tuple(x.shape)


def _torch_argsort(torch, a, axis=-1, kind=None):
    if axis is None:
        return torch.argsort(a.reshape(-1), stable=True)
    return torch.argsort(a, dim=axis, stable=True)


@register("argsort", method=True, numpy=np.argsort, sample=_sort_sample, torch=_torch_argsort)
class ArgSort(Op):
    """Indices that sort ``a`` along ``axis`` (stable). Integer-valued: records no gradient."""
    batch_rule = batch_axis_or_flattened(-1)
    differentiable = False

    def forward(self, a, *, axis=-1, kind=None, order=None, stable=None):
        if order is not None:
            raise TypeError("argsort: order= (structured arrays) is not supported on Tensors")
        a = np.asarray(a)
        axis = _sort_axis(a, axis, "argsort")
        return np.argsort(a.reshape(-1) if axis is None else a, axis=axis or 0, kind="stable")


def _topk_sample(st):
    def build(drawn):
        x, data = drawn
        axis = data.draw(st.st.integers(-x.ndim, x.ndim - 1))
        return (x, data.draw(st.st.integers(1, x.shape[axis]))), {
            "axis": axis, "largest": data.draw(st.st.booleans())}
    arrays = st.shapes(min_dims=1, max_dims=3).flatmap(st.distinct_arrays)
    return st.st.tuples(arrays, st.st.data()).map(build)


def _torch_topk(torch, x, k, axis=-1, largest=True, sorted=True):
    return tuple(torch.topk(x, k, dim=axis, largest=largest, sorted=sorted))


@register("topk", sample=_topk_sample, torch=_torch_topk)
def topk(x, k, axis=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) elements along ``axis`` and their indices, as
    torch.topk: ``(values, indices)``, values in descending (ascending) order. Ties keep
    the lower index first. Values are gathered from x, so their gradient flows to the
    chosen elements; indices record no gradient.

    Raises ValueError when k is not in [0, size of axis], naming k, the axis and the shape.
    """
    data = np.asarray(value_of(x))
    axis = axis_in_range(axis, data.shape, "topk")
    length = data.shape[axis]
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 0 <= k <= length:
        raise ValueError(f"topk: k={k!r} must be an int in [0, {length}] (the size of axis "
                         f"{axis} of the input of shape {data.shape})")
    keys = -data if largest else data
    order = np.argsort(keys, axis=axis, kind="stable")
    indices = np.take(order, np.arange(k), axis=axis)
    values = _array(x)[along_axis_index(indices, data.shape, axis)]
    return values, Tensor(indices)


def _torch_quantile(torch, a, q, axis=None, keepdims=False):
    """torch.quantile over an int, a tuple or all axes: the axes are moved last and
    flattened, then the reduced shape is restored for keepdims."""
    axes = normalize_axes(axis, a.ndim, "quantile")
    kept = [d for d in range(a.ndim) if d not in axes]
    moved = a.permute(kept + list(axes)).reshape([a.shape[d] for d in kept] + [-1])
    q_tensor = torch.as_tensor(q, dtype=a.dtype)
    out = torch.quantile(moved, q_tensor, dim=-1)
    if keepdims:
        q_dims = list(out.shape[:q_tensor.ndim])
        out = out.reshape(q_dims + [1 if d in axes else a.shape[d] for d in range(a.ndim)])
    return out


def _order_statistic_sample(st):
    """``((x,), {axis, keepdims})``: distinct values (no ties), at most three axes (finite
    differences cost two evaluations per element)."""
    def build(drawn):
        x, data = drawn
        return (x,), {"axis": data.draw(st.axes_for(x.ndim)),
                      "keepdims": data.draw(st.st.booleans())}
    return st.st.tuples(st.shapes(max_dims=3).flatmap(st.distinct_arrays), st.st.data()).map(build)


def _quantile_sample(st, scale=1.0):
    def build(drawn):
        (x,), kwargs, data = drawn
        q = data.draw(st.st.one_of(
            st.st.floats(0.0, 1.0),
            st.st.lists(st.st.floats(0.0, 1.0), min_size=1, max_size=3)))
        q = [v * scale for v in q] if isinstance(q, list) else q * scale
        return (x, q), kwargs
    return st.st.tuples(_order_statistic_sample(st), st.st.data()).map(
        lambda drawn: build((drawn[0][0], drawn[0][1], drawn[1])))


@register("quantile", numpy=np.quantile, sample=_quantile_sample, torch=_torch_quantile)
def quantile(a, q, axis=None, keepdims=False, method="linear"):
    """The ``q``-th quantiles (q in [0, 1], a float or a sequence) over ``axis`` with
    NumPy's default 'linear' method: sort, then interpolate between the two neighbouring
    order statistics at position q * (n - 1). The result's leading axes are q's.

    The gradient goes to the (one or two) elements at those positions, weighted by the
    interpolation (as torch.quantile's); ``q`` itself is treated as a constant.
    """
    if method != "linear":
        raise ValueError(f"quantile: only method='linear' (NumPy's default) is supported, "
                         f"got {method!r}")
    x = _array(a)
    q_values = np.asarray(value_of(q), dtype=np.float64)
    if q_values.ndim > 1 or np.any((q_values < 0) | (q_values > 1)) or np.any(np.isnan(q_values)):
        raise ValueError(f"quantile: q must be a number or 1-D sequence in [0, 1], got {q!r}")
    axes = normalize_axes(axis, x.ndim, "quantile")
    kept = [d for d in range(x.ndim) if d not in axes]
    count = int(np.prod([x.shape[d] for d in axes])) if axes else 1
    if count == 0:
        raise ValueError(f"quantile: cannot take a quantile over an empty axis of an input "
                         f"of shape {x.shape}")
    if x.ndim:
        x = reshape(transpose(x, tuple(kept) + axes), tuple(x.shape[d] for d in kept) + (-1,))
    else:
        x = reshape(x, (1,))
    ordered = sort(x, axis=-1)
    position = q_values * (count - 1)
    lower = np.floor(position).astype(np.intp)
    upper = np.minimum(lower + 1, count - 1)
    weight = (position - lower).astype(value_of(ordered).dtype)
    out = ordered[..., lower] * (1.0 - weight) + ordered[..., upper] * weight
    if q_values.ndim:  # the q axis comes first, as in NumPy
        out = moveaxis(out, -1, 0)
    if keepdims:
        reduced = tuple(1 if d in axes else side for d, side in enumerate(np.shape(value_of(a))))
        out = reshape(out, q_values.shape + reduced)
    return out


@register("percentile", numpy=np.percentile,
          sample=lambda st: _quantile_sample(st, scale=100.0),
          torch=lambda torch, a, q, axis=None, keepdims=False: _torch_quantile(
              torch, a, np.asarray(q) / 100.0, axis, keepdims))
def percentile(a, q, axis=None, keepdims=False, method="linear"):
    """quantile with q in percent ([0, 100])."""
    q_values = np.asarray(value_of(q), dtype=np.float64)
    if np.any((q_values < 0) | (q_values > 100)):
        raise ValueError(f"percentile: q must lie in [0, 100], got {q!r}")
    return quantile(a, q_values / 100.0, axis=axis, keepdims=keepdims, method=method)


@register("median", numpy=np.median, sample=_order_statistic_sample,
          torch=lambda torch, a, axis=None, keepdims=False: _torch_quantile(
              torch, a, 0.5, axis, keepdims))
def median(a, axis=None, keepdims=False):
    """The middle value over ``axis``; for an even count the mean of the two middle ones
    (NumPy's definition, not torch.median's lower one), each getting half the gradient."""
    return quantile(a, 0.5, axis=axis, keepdims=keepdims)


(sort, argsort, take_along_axis, put_along_axis, reshape, transpose, moveaxis) = functions(
    "sort", "argsort", "take_along_axis", "put_along_axis", "reshape", "transpose", "moveaxis")
