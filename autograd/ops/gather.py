"""Gathering by index arrays: take, take_along_axis, and an out-of-place put_along_axis.

take and take_along_axis are indexing (``getitem``) with index arrays built from their
arguments, so their gradient is a scatter-add (repeated indices accumulate) and they
differentiate to any order. NumPy's put_along_axis writes in place and returns None;
ours returns a new array (as torch.scatter does), so it has no NumPy dispatch: np.put_along_axis
on a Tensor raises rather than silently not writing.
"""
import numpy as np

from ..batching import logical_ndim, materialized, shifted, with_rank
from ..op import Op, apply, functions, register, value_of
from ..tensor import Tensor
from .axis_checks import axis_in_range


def _array(x):
    return x if isinstance(x, Tensor) else np.asarray(x)


def _integer_indices(indices, op_name):
    indices = np.asarray(value_of(indices))
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{op_name}: indices must be integers, got dtype {indices.dtype}")
    return indices


def _take_sample(st):
    def build(drawn):
        x, data = drawn
        axis = data.draw(st.st.one_of(st.st.none(), st.st.integers(-x.ndim, x.ndim - 1))
                         if x.ndim else st.st.none())
        length = x.size if axis is None else x.shape[axis]
        index_shape = data.draw(st.shapes(max_dims=2))
        indices = data.draw(st.hnp.arrays(np.int64, index_shape,
                                          elements=st.st.integers(-length, length - 1)))
        return (x, indices), {"axis": axis}
    return st.st.tuples(st.arrays(st.shapes(max_dims=3)), st.st.data()).map(build)


def _torch_take(torch, a, indices, axis=None):
    if axis is None:
        return a.reshape(-1)[indices]
    return a[(slice(None),) * (axis % a.ndim) + (indices,)]


@register("take", method=True, numpy=np.take, sample=_take_sample, torch=_torch_take)
def take(a, indices, axis=None):
    """Elements of ``a`` at ``indices`` along ``axis`` (of the flattened ``a`` when None);
    the result's ``axis`` is replaced by the shape of ``indices``. Negative indices count
    from the end; repeated ones accumulate their gradients."""
    x = _array(a)
    indices = _integer_indices(indices, "take")
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = axis_in_range(axis, x.shape, "take")
    length = x.shape[axis]
    if indices.size and (indices.min() < -length or indices.max() >= length):
        raise IndexError(f"take: indices in [{indices.min()}, {indices.max()}] are out of range "
                         f"for axis {axis} of size {length} (input shape {x.shape})")
    return x[(slice(None),) * axis + (indices,)]


def along_axis_index(indices, shape, axis):
    """The NumPy index tuple that makes ``x[index] == np.take_along_axis(x, indices, axis)``
    for ``x`` of ``shape``: ``indices`` on ``axis``, an aranged grid on every other axis."""
    index = []
    for dim, side in enumerate(shape):
        if dim == axis:
            index.append(indices)
        else:
            grid_shape = [1] * len(shape)
            grid_shape[dim] = side
            index.append(np.arange(side).reshape(grid_shape))
    return tuple(index)


def _check_along_axis(x_shape, indices, axis, op_name):
    if indices.ndim != len(x_shape):
        raise ValueError(f"{op_name}: indices must have as many axes as the input: got "
                         f"indices of shape {indices.shape} for an input of shape {x_shape}")
    axis = axis_in_range(axis, x_shape, op_name)
    length = x_shape[axis]
    if indices.size and (indices.min() < -length or indices.max() >= length):
        raise IndexError(f"{op_name}: indices in [{indices.min()}, {indices.max()}] are out of "
                         f"range for axis {axis} of size {length} (input shape {x_shape})")
    try:
        np.broadcast_shapes(tuple(s for d, s in enumerate(x_shape) if d != axis),
                            tuple(s for d, s in enumerate(indices.shape) if d != axis))
    except ValueError:
        raise ValueError(f"{op_name}: indices of shape {indices.shape} do not broadcast with "
                         f"an input of shape {x_shape} outside axis {axis}") from None
    return axis


def _along_axis_sample(st, unique=False, with_values=False):
    """``((x, indices[, values]), {axis})`` with indices of x's rank: any length along
    ``axis`` (or distinct positions per slice when ``unique``), x's sides elsewhere."""
    def build(drawn):
        x, data = drawn
        axis = data.draw(st.st.integers(-x.ndim, x.ndim - 1))
        length = x.shape[axis]
        shape = list(x.shape)
        if unique:
            shape[axis] = data.draw(st.st.integers(1, length))
            keys = data.draw(st.hnp.arrays(np.float64, x.shape, elements=st.st.floats(0, 1),
                                           unique=True))
            indices = np.take(np.argsort(keys, axis=axis), np.arange(shape[axis]), axis=axis)
        else:
            shape[axis] = data.draw(st.st.integers(1, 4))
            if not with_values and data.draw(st.st.booleans()):
                shape = [1 if d != axis % x.ndim and data.draw(st.st.booleans()) else side
                         for d, side in enumerate(shape)]
            indices = data.draw(st.hnp.arrays(np.int64, tuple(shape),
                                              elements=st.st.integers(-length, length - 1)))
        if not with_values:
            return (x, indices), {"axis": axis}
        values_shape = tuple(1 if data.draw(st.st.booleans()) else side for side in shape)
        return (x, indices, data.draw(st.arrays(values_shape))), {"axis": axis}
    return st.st.tuples(st.arrays(st.shapes(min_dims=1, max_dims=3)), st.st.data()).map(build)


def _torch_take_along_axis(torch, arr, indices, axis=-1):
    if axis is None:
        return torch.take_along_dim(arr.reshape(-1), indices)
    size = [side if d == axis % arr.ndim else max(side, indices.shape[d])
            for d, side in enumerate(arr.shape)]
    return torch.take_along_dim(arr.expand(size), indices % arr.shape[axis], dim=axis)


@register("take_along_axis", numpy=np.take_along_axis, sample=_along_axis_sample,
          torch=_torch_take_along_axis)
def take_along_axis(arr, indices, axis=-1):
    """out[..., i, ...] = arr[..., indices[..., i, ...], ...] along ``axis`` (the flattened
    ``arr`` when None): how the results of argsort/argmax(keepdims) pick values.
    ``indices`` has arr's number of axes and broadcasts with it elsewhere."""
    x = _array(arr)
    indices = _integer_indices(indices, "take_along_axis")
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = _check_along_axis(x.shape, indices, axis, "take_along_axis")
    return x[along_axis_index(indices, x.shape, axis)]


def _torch_put_along_axis(torch, arr, indices, values, axis):
    return torch.scatter(arr, axis, indices % arr.shape[axis], values.expand(indices.shape))


def batch_put_along_axis(op_cls, values, batched, params, size):
    """put_along_axis under vmap, in one call: the array and the indices get the batch
    axis (a broadcast view where they lack it: the forward copies the array, and values
    broadcast to the indices' shape), batched values the full rank; the axis moves past
    the batch axis."""
    arr, indices, written = values
    arr_batched, indices_batched, written_batched = batched
    rank = logical_ndim(arr) - arr_batched
    axis = shifted(params["axis"], rank, "put_along_axis")
    arr = arr if arr_batched else materialized(arr, size)
    indices = indices if indices_batched else materialized(indices, size)
    written = with_rank(written, rank) if written_batched else written
    return apply(op_cls, (arr, indices, written), dict(params, axis=axis))


@register("put_along_axis", sample=lambda st: _along_axis_sample(st, True, True),
          torch=_torch_put_along_axis)
class PutAlongAxis(Op):
    """A copy of ``arr`` with ``values`` (broadcast to the shape of ``indices``) written at
    ``indices`` along ``axis``: NumPy's put_along_axis, out of place (like torch.scatter).

    Each position may be written once: repeated indices along the axis raise ValueError,
    since which value lands (and so which one gets the gradient) would be arbitrary. The
    gradient of ``arr`` is zero at the written positions; that of ``values`` is the
    output gradient gathered there.
    """
    batch_rule = batch_put_along_axis
    def forward(self, arr, indices, values, *, axis):
        arr = np.asarray(arr)
        indices = _integer_indices(indices, "put_along_axis")
        axis = _check_along_axis(arr.shape, indices, axis, "put_along_axis")
        positions = np.sort(np.where(indices < 0, indices + arr.shape[axis], indices), axis=axis)
        if np.any(np.diff(positions, axis=axis) == 0):
            raise ValueError(f"put_along_axis: indices repeat a position along axis {axis}; "
                             f"each position may be written once")
        try:
            values = np.broadcast_to(values, indices.shape)
        except ValueError:
            raise ValueError(f"put_along_axis: values of shape {np.shape(values)} do not "
                             f"broadcast to the indices' shape {indices.shape}") from None
        self.axis, self.index = axis, along_axis_index(indices, arr.shape, axis)
        out = arr.astype(np.result_type(arr, values), copy=True)
        out[self.index] = values
        return out

    def vjp(self, g, out, arr, indices, values):
        needs_arr, _, needs_values = self.needs_grad
        grad_arr = grad_values = None
        if needs_arr:
            zeros = np.zeros(np.shape(value_of(indices)), dtype=value_of(g).dtype)
            grad_arr = put_along_axis(g, value_of(indices), zeros, axis=self.axis)
        if needs_values:
            grad_values = g[self.index]
        return grad_arr, None, grad_values

    def jvp(self, tangents, out, arr, indices, values):
        # linear in arr and values jointly: the op on their tangents, zero for a missing one
        t_arr, _, t_values = tangents
        dtype = value_of(out).dtype
        if t_arr is None:
            t_arr = np.zeros(arr.shape if hasattr(arr, "shape") else np.shape(arr), dtype)
        if t_values is None:
            t_values = np.zeros((), dtype)  # broadcast to the indices' shape, as values are
        return put_along_axis(t_arr, indices, t_values, axis=self.params["axis"])


reshape, put_along_axis = functions("reshape", "put_along_axis")
