"""NumPy's arranging functions (ravel, moveaxis, roll, stacks, diagonals, triangles,
outer products, meshgrid), each built from the core shape, index and elementwise ops.

Being compositions of registered ops, they need no VJP of their own and differentiate
to any order; they are registered so that NumPy dispatch, the Tensor methods and the
generated gradient and PyTorch-parity tests come from one entry.
"""
import numpy as np

from ..op import functions, register, value_of
from ..tensor import Tensor
from .axis_checks import axis_in_range


def _array(x):
    return x if isinstance(x, Tensor) else np.asarray(x)


def _one_array(st, max_dims=3, min_dims=0):
    return st.arrays(st.shapes(min_dims=min_dims, max_dims=max_dims)).map(lambda a: ((a,), {}))


@register("ravel", method=True, numpy=np.ravel, sample=_one_array,
          torch=lambda torch, a: a.reshape(-1))
def ravel(a):
    """The elements of ``a`` as a 1-D array (C order)."""
    return reshape(_array(a), (-1,))


def _axis_list(axis, shape, op_name, argument):
    axes = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
    result = [axis_in_range(a, shape, op_name, argument) for a in axes]
    if len(set(result)) != len(result):
        raise ValueError(f"{op_name}: {argument} {axis!r} repeats an axis")
    return result


def _moveaxis_sample(st):
    return st.st.tuples(st.arrays(st.shapes(min_dims=1, max_dims=3)), st.st.data()).map(
        lambda drawn: ((drawn[0],), {
            "source": drawn[1].draw(st.st.integers(-drawn[0].ndim, drawn[0].ndim - 1)),
            "destination": drawn[1].draw(st.st.integers(-drawn[0].ndim, drawn[0].ndim - 1))}))


@register("moveaxis", numpy=np.moveaxis, sample=_moveaxis_sample,
          torch=lambda torch, a, source, destination: torch.movedim(a, source, destination))
def moveaxis(a, source, destination):
    """Move axes ``source`` to positions ``destination`` (ints or equal-length sequences),
    the others keeping their order."""
    x = _array(a)
    sources = _axis_list(source, x.shape, "moveaxis", "source")
    destinations = _axis_list(destination, x.shape, "moveaxis", "destination")
    if len(sources) != len(destinations):
        raise ValueError(f"moveaxis: source {source!r} and destination {destination!r} must "
                         f"have the same number of axes")
    order = [i for i in range(x.ndim) if i not in sources]
    for dest, src in sorted(zip(destinations, sources)):
        order.insert(dest, src)
    return transpose(x, tuple(order))


def _rollaxis_destination(axis, start, shape):
    ndim = len(shape)
    axis = axis_in_range(axis, shape, "rollaxis")
    if not isinstance(start, (int, np.integer)) or not -ndim <= start <= ndim:
        raise ValueError(f"rollaxis: start={start!r} is out of range for an input of shape "
                         f"{tuple(shape)} (it must lie in [{-ndim}, {ndim}])")
    start = start + ndim if start < 0 else start
    return axis, (start - 1 if axis < start else start)


def _torch_rollaxis(torch, a, axis, start=0):
    axis, destination = _rollaxis_destination(axis, start, tuple(a.shape))
    return torch.movedim(a, axis, destination)


def _rollaxis_sample(st):
    return st.st.tuples(st.arrays(st.shapes(min_dims=1, max_dims=3)), st.st.data()).map(
        lambda drawn: ((drawn[0],), {
            "axis": drawn[1].draw(st.st.integers(-drawn[0].ndim, drawn[0].ndim - 1)),
            "start": drawn[1].draw(st.st.integers(-drawn[0].ndim, drawn[0].ndim))}))


@register("rollaxis", numpy=np.rollaxis, sample=_rollaxis_sample, torch=_torch_rollaxis)
def rollaxis(a, axis, start=0):
    """Roll ``axis`` backwards until it lies before position ``start`` (NumPy's older
    spelling of moveaxis)."""
    x = _array(a)
    axis, destination = _rollaxis_destination(axis, start, x.shape)
    return moveaxis(x, axis, destination)


def _roll_sample(st):
    def build(drawn):
        x, data = drawn
        if x.ndim == 0 or data.draw(st.st.booleans()):
            return (x,), {"shift": data.draw(st.st.integers(-5, 5)), "axis": None}
        axes = data.draw(st.st.lists(st.st.integers(-x.ndim, x.ndim - 1), min_size=1, max_size=2))
        shifts = [data.draw(st.st.integers(-5, 5)) for _ in axes]
        return (x,), {"shift": tuple(shifts), "axis": tuple(axes)}
    return st.st.tuples(st.arrays(st.shapes(max_dims=3)), st.st.data()).map(build)


def _torch_roll(torch, a, shift, axis=None):
    if axis is None:
        return torch.roll(a.reshape(-1), shift).reshape(a.shape)
    return torch.roll(a, shift, axis)


@register("roll", numpy=np.roll, sample=_roll_sample, torch=_torch_roll)
def roll(a, shift, axis=None):
    """Shift elements cyclically by ``shift`` along ``axis`` (the flattened array when
    None; a repeated axis adds up its shifts, as in NumPy)."""
    x = _array(a)
    if axis is None:
        return reshape(roll(ravel(x), shift, 0), x.shape)
    axes = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
    shifts = [shift] * len(axes) if isinstance(shift, (int, np.integer)) else list(shift)
    if len(shifts) != len(axes):
        raise ValueError(f"roll: shift {shift!r} and axis {axis!r} must have the same length")
    total = {}
    for s, ax in zip(shifts, axes):
        ax = axis_in_range(ax, x.shape, "roll")
        total[ax] = total.get(ax, 0) + int(s)
    for ax, s in total.items():
        length = x.shape[ax]
        s = s % length if length else 0
        if s:
            lead = (slice(None),) * ax
            x = concatenate([x[lead + (slice(length - s, None),)],
                             x[lead + (slice(None, length - s),)]], axis=ax)
    return x


def _rot90_sample(st):
    def build(drawn):
        x, data = drawn
        first, second = data.draw(st.st.permutations(range(x.ndim)))[:2]
        return (x,), {"k": data.draw(st.st.integers(-4, 5)), "axes": (first, second)}
    return st.st.tuples(st.arrays(st.shapes(min_dims=2, max_dims=3)), st.st.data()).map(build)


@register("rot90", numpy=np.rot90, sample=_rot90_sample,
          torch=lambda torch, m, k=1, axes=(0, 1): torch.rot90(m, k, axes))
def rot90(m, k=1, axes=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``axes`` (from the first axis
    towards the second)."""
    x = _array(m)
    if x.ndim < 2:
        raise ValueError(f"rot90: input must be at least 2-D, got shape {x.shape}")
    first, second = _axis_list(axes, x.shape, "rot90", "axes")
    k = k % 4
    if k == 0:
        return x[...]
    if k == 2:
        return flip(flip(x, axis=first), axis=second)
    order = list(range(x.ndim))
    order[first], order[second] = order[second], order[first]
    if k == 1:
        return transpose(flip(x, axis=second), tuple(order))
    return flip(transpose(x, tuple(order)), axis=second)


def _at_least(arrays, ndim, op_name):
    results = []
    for a in arrays:
        x = _array(a)
        if x.ndim >= ndim:
            results.append(x)
        elif ndim == 3 and x.ndim == 2:
            results.append(reshape(x, x.shape + (1,)))
        elif ndim == 3 and x.ndim == 1:
            results.append(reshape(x, (1,) + x.shape + (1,)))
        else:
            results.append(reshape(x, (1,) * (ndim - x.ndim) + x.shape))
    if not results:
        raise TypeError(f"{op_name}() needs at least one array")
    return results[0] if len(results) == 1 else tuple(results)


def _torch_at_least(name):
    def compute(torch, *arrays):
        result = getattr(torch, name)(*arrays)
        return tuple(result) if isinstance(result, (list, tuple)) else result
    return compute


def _some_arrays(st):
    """1 to 3 arrays of small independent shapes, as separate arguments."""
    return st.st.lists(st.arrays(st.shapes(max_dims=3)), min_size=1, max_size=3).map(
        lambda parts: (tuple(parts), {}))


@register("atleast_1d", numpy=np.atleast_1d, sample=_some_arrays,
          torch=_torch_at_least("atleast_1d"))
def atleast_1d(*arys):
    """Each input viewed with at least one axis (0-d becomes shape (1,)); one result for
    one input, else a tuple."""
    return _at_least(arys, 1, "atleast_1d")


@register("atleast_2d", numpy=np.atleast_2d, sample=_some_arrays,
          torch=_torch_at_least("atleast_2d"))
def atleast_2d(*arys):
    """Each input with at least two axes: new axes go in front ((n,) becomes (1, n))."""
    return _at_least(arys, 2, "atleast_2d")


@register("atleast_3d", numpy=np.atleast_3d, sample=_some_arrays,
          torch=_torch_at_least("atleast_3d"))
def atleast_3d(*arys):
    """Each input with at least three axes: (n,) becomes (1, n, 1), (m, n) becomes (m, n, 1)."""
    return _at_least(arys, 3, "atleast_3d")


def _stackable(st):
    """``(([a, b, ...],), {})``: 1 to 3 arrays of one shape (valid for every *stack)."""
    return st.st.tuples(st.shapes(max_dims=3), st.st.integers(1, 3)).flatmap(
        lambda drawn: st.st.lists(st.arrays(drawn[0]), min_size=drawn[1], max_size=drawn[1])
    ).map(lambda parts: ((parts,), {}))


def _sequence(tup, op_name):
    if isinstance(tup, (Tensor, np.ndarray)) or not isinstance(tup, (list, tuple)) or not tup:
        raise TypeError(f"{op_name}: expected a non-empty list or tuple of arrays, got "
                        f"{type(tup).__name__}")
    return list(tup)


def _as_tuple(result):
    return result if isinstance(result, tuple) else (result,)


@register("vstack", numpy=np.vstack, sample=_stackable,
          torch=lambda torch, tup: torch.vstack(list(tup)))
def vstack(tup):
    """Stack arrays row-wise: 1-D inputs become rows, then join along axis 0."""
    return concatenate(_as_tuple(atleast_2d(*_sequence(tup, "vstack"))), axis=0)


@register("hstack", numpy=np.hstack, sample=_stackable,
          torch=lambda torch, tup: torch.hstack(list(tup)))
def hstack(tup):
    """Stack arrays column-wise: join 1-D inputs end to end, others along axis 1."""
    parts = _as_tuple(atleast_1d(*_sequence(tup, "hstack")))
    return concatenate(parts, axis=0 if parts[0].ndim == 1 else 1)


@register("dstack", numpy=np.dstack, sample=_stackable,
          torch=lambda torch, tup: torch.dstack(list(tup)))
def dstack(tup):
    """Stack arrays depth-wise: inputs get at least three axes, then join along axis 2."""
    return concatenate(_as_tuple(atleast_3d(*_sequence(tup, "dstack"))), axis=2)


def _column(x):
    x = _array(x)
    return reshape(x, (-1, 1)) if x.ndim < 2 else x


@register("column_stack", numpy=np.column_stack, sample=_stackable,
          torch=lambda torch, tup: torch.column_stack(list(tup)))
def column_stack(tup):
    """Join arrays as columns: 0-d and 1-D inputs become columns, then join along axis 1."""
    return concatenate([_column(x) for x in _sequence(tup, "column_stack")], axis=1)


def _diagonal_sample(st):
    def build(drawn):
        x, data = drawn
        first, second = data.draw(st.st.permutations(range(x.ndim)))[:2]
        return (x,), {"offset": data.draw(st.st.integers(-3, 3)), "axis1": first,
                      "axis2": second}
    return st.st.tuples(st.arrays(st.shapes(min_dims=2, max_dims=3)), st.st.data()).map(build)


def _diagonal_positions(rows, cols, offset):
    """Row and column indices of the ``offset`` diagonal of a (rows, cols) matrix."""
    start_row, start_col = max(-offset, 0), max(offset, 0)
    length = max(min(rows - start_row, cols - start_col), 0)
    return np.arange(length) + start_row, np.arange(length) + start_col


@register("diagonal", method=True, numpy=np.diagonal, sample=_diagonal_sample,
          torch=lambda torch, a, offset=0, axis1=0, axis2=1:
              torch.diagonal(a, offset, axis1, axis2))
def diagonal(a, offset=0, axis1=0, axis2=1):
    """The ``offset`` diagonal of the (axis1, axis2) planes, as a new last axis."""
    x = _array(a)
    if x.ndim < 2:
        raise ValueError(f"diagonal: input must be at least 2-D, got shape {x.shape}")
    first, second = _axis_list((axis1, axis2), x.shape, "diagonal", "axis1/axis2")
    x = moveaxis(x, (first, second), (-2, -1))
    rows, cols = _diagonal_positions(x.shape[-2], x.shape[-1], int(offset))
    return x[..., rows, cols]


@register("trace", method=True, numpy=np.trace, sample=_diagonal_sample,
          torch=lambda torch, a, offset=0, axis1=0, axis2=1:
              torch.diagonal(a, offset, axis1, axis2).sum(-1))
def trace(a, offset=0, axis1=0, axis2=1):
    """Sum along the ``offset`` diagonal of the (axis1, axis2) planes."""
    return sum(diagonal(a, offset, axis1, axis2), axis=-1)


def _diag_sample(st):
    return st.st.tuples(st.arrays(st.shapes(min_dims=1, max_dims=2)),
                        st.st.integers(-2, 2)).map(lambda drawn: ((drawn[0],), {"k": drawn[1]}))


@register("diag", numpy=np.diag, sample=_diag_sample,
          torch=lambda torch, v, k=0: torch.diag(v, k))
def diag(v, k=0):
    """A 1-D input becomes a square matrix with it on the ``k`` diagonal; a 2-D input
    gives its ``k`` diagonal."""
    x = _array(v)
    if x.ndim == 2:
        return diagonal(x, k)
    if x.ndim != 1:
        raise ValueError(f"diag: input must be 1-D or 2-D, got shape {x.shape}")
    side = x.shape[0] + abs(int(k))
    rows, cols = _diagonal_positions(side, side, int(k))
    return scatter_add(x, shape=(side, side), index=(rows, cols))


def _triangle_sample(st):
    return st.st.tuples(st.arrays(st.shapes(min_dims=2, max_dims=3)), st.st.integers(-3, 3)).map(
        lambda drawn: ((drawn[0],), {"k": drawn[1]}))


def _triangle(m, k, keep_upper):
    x = _array(m)
    if x.ndim < 2:
        raise ValueError(f"{'triu' if keep_upper else 'tril'}: input must be at least 2-D, "
                         f"got shape {x.shape}")
    rows, cols = x.shape[-2:]
    below = np.tri(rows, cols, k - 1 if keep_upper else k, dtype=bool)
    keep = ~below if keep_upper else below
    return where(keep, x, np.zeros((), dtype=value_of(x).dtype))


@register("triu", numpy=np.triu, sample=_triangle_sample,
          torch=lambda torch, m, k=0: torch.triu(m, k))
def triu(m, k=0):
    """Zero the elements below the ``k`` diagonal of the last two axes."""
    return _triangle(m, k, keep_upper=True)


@register("tril", numpy=np.tril, sample=_triangle_sample,
          torch=lambda torch, m, k=0: torch.tril(m, k))
def tril(m, k=0):
    """Zero the elements above the ``k`` diagonal of the last two axes."""
    return _triangle(m, k, keep_upper=False)


def _two_arrays(st):
    return st.st.tuples(st.arrays(st.shapes(max_dims=2)), st.arrays(st.shapes(max_dims=2))).map(
        lambda pair: (pair, {}))


@register("outer", numpy=np.outer, sample=_two_arrays,
          torch=lambda torch, a, b: torch.outer(a.reshape(-1), b.reshape(-1)))
def outer(a, b):
    """out[i, j] = a.ravel()[i] * b.ravel()[j]."""
    return reshape(ravel(a), (-1, 1)) * reshape(ravel(b), (1, -1))


def _inner_sample(st):
    def build(drawn):
        side, a_lead, b_lead, data = drawn
        a = data.draw(st.arrays(tuple(a_lead) + (side,)))
        b = data.draw(st.arrays(tuple(b_lead) + (side,)))
        if data.draw(st.st.integers(0, 5)) == 0:
            a = data.draw(st.arrays(()))
        return (a, b), {}
    lead = st.st.lists(st.st.integers(1, 3), max_size=2)
    return st.st.tuples(st.st.integers(1, 3), lead, lead, st.st.data()).map(build)


@register("inner", numpy=np.inner, sample=_inner_sample,
          torch=lambda torch, a, b: torch.inner(a, b))
def inner(a, b):
    """Sum of products over the last axes of a and b (a product when either is 0-d)."""
    x, y = _array(a), _array(b)
    if x.ndim == 0 or y.ndim == 0:
        return x * y
    if x.shape[-1] != y.shape[-1]:
        raise ValueError(f"inner: the last axes of shapes {x.shape} and {y.shape} differ")
    return tensordot(x, y, axes=([-1], [-1]))


@register("kron", numpy=np.kron, sample=_two_arrays,
          torch=lambda torch, a, b: torch.kron(a, b))
def kron(a, b):
    """Kronecker product: blocks a[i, j] * b, for any numbers of axes (the shorter shape
    padded with leading ones)."""
    x, y = _array(a), _array(b)
    ndim = max(x.ndim, y.ndim)
    x_shape = (1,) * (ndim - x.ndim) + x.shape
    y_shape = (1,) * (ndim - y.ndim) + y.shape
    x = reshape(x, tuple(side for s in x_shape for side in (s, 1)))
    y = reshape(y, tuple(side for s in y_shape for side in (1, s)))
    return reshape(x * y, tuple(p * q for p, q in zip(x_shape, y_shape)))


def _meshgrid_sample(st):
    vectors = st.st.lists(st.arrays(st.shapes(min_dims=1, max_dims=1)), min_size=1, max_size=3)
    return st.st.tuples(vectors, st.st.sampled_from(["xy", "ij"])).map(
        lambda drawn: (tuple(drawn[0]), {"indexing": drawn[1]}))


@register("meshgrid", numpy=np.meshgrid, sample=_meshgrid_sample,
          torch=lambda torch, *xi, indexing="xy": tuple(torch.meshgrid(*xi, indexing=indexing)))
def meshgrid(*xi, indexing="xy", sparse=False, copy=True):
    """Coordinate grids from 1-D coordinate vectors; ``indexing='xy'`` (the default)
    swaps the first two output axes, as in NumPy. ``sparse=True`` keeps the size-1 axes."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    vectors = [ravel(x) for x in xi]
    sides = [v.shape[0] for v in vectors]
    if indexing == "xy" and len(vectors) >= 2:
        sides[0], sides[1] = sides[1], sides[0]
    grids = []
    for position, v in enumerate(vectors):
        axis = position
        if indexing == "xy" and position < 2 and len(vectors) >= 2:
            axis = 1 - position
        shape = [1] * len(vectors)
        shape[axis] = v.shape[0]
        grid = reshape(v, tuple(shape))
        grids.append(grid if sparse else broadcast_to(grid, tuple(sides)))
    return tuple(grids)


(reshape, transpose, flip, concatenate, where, tensordot, broadcast_to, scatter_add,
 sum) = functions("reshape", "transpose", "flip", "concatenate", "where", "tensordot",
                  "broadcast_to", "scatter_add", "sum")
