"""Hypothesis strategies for gradient tests, built on ``hypothesis.extra.numpy``.

Element values keep a margin away from kinks and poles (``avoid``), because finite
differences across a kink measure neither one-sided derivative. Op test hints in the
registry call these with the arguments that suit each op.
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..tensor import Tensor

__all__ = ["shapes", "broadcastable_shapes", "arrays", "tensors", "distinct_arrays", "untied_pair",
           "elementwise", "axes_for", "reduction", "indices_for", "prod_args", "st", "hnp",
           "batch_shapes", "orthogonal_matrices", "invertible_matrices", "spd_matrices",
           "spectral_matrices"]

MAX_DIMS = 4
MAX_SIDE = 4
KINK_MARGIN = 1e-2


def shapes(min_dims=0, max_dims=MAX_DIMS, min_side=1, max_side=MAX_SIDE):
    """Array shapes from 0-d up to ``max_dims`` dimensions, size-1 sides included."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=MAX_DIMS, max_side=MAX_SIDE):
    """Tuples of ``num_shapes`` shapes that broadcast together (NumPy rules)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=1,
        max_side=max_side).map(lambda result: result.input_shapes)


def _away_from(avoid, margin):
    def push(value):
        for point in avoid:
            if abs(value - point) < margin:
                return point + margin if value >= point else point - margin
        return value
    return push


def elements(low=-3.0, high=3.0, avoid=(), margin=KINK_MARGIN):
    """Floats in [low, high], at least ``margin`` away from each point in ``avoid``."""
    values = st.floats(low, high, allow_nan=False, allow_infinity=False)
    return values.map(_away_from(avoid, margin)) if avoid else values


def arrays(shape=None, dtype=np.float64, low=-3.0, high=3.0, avoid=(), margin=KINK_MARGIN):
    """ndarrays of ``shape`` (drawn when None) with elements from ``elements``."""
    return hnp.arrays(dtype, shape if shape is not None else shapes(),
                      elements=elements(low, high, avoid, margin))


def tensors(shape=None, dtype=np.float64, low=-3.0, high=3.0, avoid=(), requires_grad=True):
    """Tensors (``requires_grad`` by default) whose data come from ``arrays``."""
    return arrays(shape, dtype, low, high, avoid).map(
        lambda a: Tensor(a, requires_grad=requires_grad))


@st.composite
def distinct_arrays(draw, shape=None, spacing=0.1):
    """Arrays whose entries differ pairwise by at least ``spacing`` (no ties), for max/min/sort."""
    shape = draw(shapes()) if shape is None else shape
    size = int(np.prod(shape))
    order = draw(st.permutations(range(size)))
    offset = draw(st.floats(-1.0, 1.0))
    return (np.array(order, dtype=np.float64) * spacing * 3 + offset).reshape(shape)


@st.composite
def elementwise(draw, arity, low=-3.0, high=3.0, avoid=(), low2=None, high2=None, params=None):
    """``(args, kwargs)`` for an elementwise op: ``arity`` arrays of broadcastable shapes.

    The second argument uses ``[low2, high2]`` when given (e.g. a positive divisor).
    """
    input_shapes = draw(broadcastable_shapes(arity))
    args = []
    for position, shape in enumerate(input_shapes):
        lo = low2 if position == 1 and low2 is not None else low
        hi = high2 if position == 1 and high2 is not None else high
        args.append(draw(arrays(shape, low=lo, high=hi, avoid=avoid)))
    return tuple(args), dict(params or {})


@st.composite
def untied_pair(draw, step=0.2):
    """``((x, y), {})`` of broadcastable arrays that never tie: x sits on a grid of
    multiples of ``step``, y halfway between, so |x - y| >= step / 2 everywhere
    (finite differences across a tie of maximum/minimum measure neither side)."""
    x_shape, y_shape = draw(broadcastable_shapes(2))
    on_grid = st.integers(-15, 15).map(lambda k: k * step)
    between = st.integers(-15, 15).map(lambda k: (k + 0.5) * step)
    return (draw(hnp.arrays(np.float64, x_shape, elements=on_grid)),
            draw(hnp.arrays(np.float64, y_shape, elements=between))), {}


@st.composite
def axes_for(draw, ndim, allow_tuple=True, allow_none=True):
    """An ``axis`` argument valid for ``ndim``: None, an int (maybe negative) or a tuple."""
    choices = []
    if allow_none:
        choices.append(st.none())
    if ndim > 0:
        choices.append(st.integers(-ndim, ndim - 1))
        if allow_tuple:
            choices.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim,
                                    unique=True).map(tuple))
    return draw(st.one_of(choices)) if choices else None


@st.composite
def reduction(draw, low=-3.0, high=3.0, distinct=False, allow_tuple=True, extra=None):
    """``((x,), {axis, keepdims, **extra})`` for a reduction over ``axis``."""
    shape = draw(shapes())
    x = draw(distinct_arrays(shape)) if distinct else draw(arrays(shape, low=low, high=high))
    kwargs = dict(axis=draw(axes_for(len(shape), allow_tuple=allow_tuple)),
                  keepdims=draw(st.booleans()))
    kwargs.update(extra or {})
    return (x,), kwargs


# --- building blocks for ops with structured arguments --------------------------------
# The samplers of the engine's own ops sit beside each op (autograd/ops/*.py) and use these.

@st.composite
def indices_for(draw, shape):
    """An index for an array of ``shape``: ints, slices, None, Ellipsis, integer arrays
    (repeats included) and boolean masks, mixed as NumPy allows."""
    if not shape:
        return draw(st.sampled_from([(), Ellipsis, None, (None, Ellipsis)]))
    if draw(st.integers(0, 5)) == 0:
        return draw(hnp.arrays(np.bool_, shape))
    array_length = draw(st.integers(1, 4))
    # NumPy counts an int next to an integer array as an advanced index too (which moves
    # axes where PyTorch does not), so an index uses ints or arrays, never both.
    use_arrays = draw(st.booleans())
    items, advanced = [], 0
    for side in shape:
        kinds = ["slice", "full"] + (["int"] if not use_arrays else
                                     ["array", "mask"] if advanced == 0 else
                                     ["array"] if advanced < 2 else [])
        kind = draw(st.sampled_from(kinds))
        if kind == "int":
            items.append(draw(st.integers(-side, side - 1)))
        elif kind == "slice":
            start = draw(st.one_of(st.none(), st.integers(-side, side)))
            stop = draw(st.one_of(st.none(), st.integers(-side, side)))
            items.append(slice(start, stop, draw(st.sampled_from([None, 1, 2]))))
        elif kind == "full":
            items.append(slice(None))
        elif kind == "array":
            advanced += 1
            items.append(np.array(draw(st.lists(st.integers(-side, side - 1), min_size=array_length,
                                                max_size=array_length)), dtype=np.int64))
        else:
            advanced = 2  # a mask selects a data-dependent count: use it alone
            items.append(draw(hnp.arrays(np.bool_, (side,))))
    if draw(st.booleans()):
        items.insert(draw(st.integers(0, len(items))), None)
    cut = draw(st.integers(0, len(items)))
    if draw(st.booleans()):
        items = [Ellipsis] + items[cut:]
    else:
        items = items[:max(cut, 1)]
    return tuple(items) if len(items) != 1 or draw(st.booleans()) else items[0]


@st.composite
def prod_args(draw, others=False):
    """Arrays with magnitudes in [0.5, 1.5] and some exact zeros (where out / x would fail):
    ``((x,), {axis, keepdims})`` for prod, or ``((x,), {})`` for prod_others (ndim >= 1)."""
    shape = draw(shapes(min_dims=1 if others else 0, max_side=3))
    value = st.one_of(st.just(0.0), st.floats(0.5, 1.5), st.floats(-1.5, -0.5))
    x = draw(hnp.arrays(np.float64, shape, elements=value))
    if others:
        return (x,), {}
    return (x,), {"axis": draw(axes_for(len(shape))), "keepdims": draw(st.booleans())}


# --- matrices for the linear-algebra ops ---------------------------------------------------
# Random entries alone give nearly singular matrices now and then, where finite
# differences (and the gradients themselves) blow up; these build matrices whose
# conditioning, eigenvalues or singular values are kept away from the degenerate cases.

def batch_shapes(max_dims=1, max_side=2):
    """Leading batch shapes for stacks of matrices: () or a few small sides."""
    return shapes(min_dims=0, max_dims=max_dims, max_side=max_side)


@st.composite
def orthogonal_matrices(draw, batch, side):
    """Orthogonal (side, side) matrices of batch shape ``batch``: Q of a random QR, turned
    by a fixed dense rotation so that even the simplest draw is not diagonal (LAPACK
    flips signs of eigen/singular vectors discontinuously around diagonal matrices,
    which finite differences would straddle)."""
    raw = draw(arrays(tuple(batch) + (side, side), low=-1.0, high=1.0))
    q, r = np.linalg.qr(raw + 3.0 * np.eye(side))
    q = q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]
    rotation = np.linalg.qr(np.random.default_rng(side).standard_normal((side, side)))[0]
    return q @ rotation


@st.composite
def invertible_matrices(draw, batch=None, side=None, max_side=4):
    """Well-conditioned square matrices (diagonally dominant, rows of random sign, so the
    determinant takes both signs), with a batch shape drawn when ``batch`` is None."""
    batch = draw(batch_shapes()) if batch is None else batch
    side = draw(st.integers(1, max_side)) if side is None else side
    raw = draw(arrays(tuple(batch) + (side, side), low=-1.0, high=1.0))
    signs = draw(hnp.arrays(np.float64, tuple(batch) + (side, 1),
                            elements=st.sampled_from([-1.0, 1.0])))
    return (raw + (side + 1.0) * np.eye(side)) * signs


@st.composite
def spd_matrices(draw, batch=None, side=None, max_side=4):
    """Symmetric positive definite matrices B B^T + side * I."""
    batch = draw(batch_shapes()) if batch is None else batch
    side = draw(st.integers(1, max_side)) if side is None else side
    raw = draw(arrays(tuple(batch) + (side, side), low=-1.0, high=1.0))
    return raw @ np.swapaxes(raw, -1, -2) + side * np.eye(side)


@st.composite
def spectral_matrices(draw, batch=None, rows=None, cols=None, symmetric=False, max_side=4,
                      gap=0.3):
    """Matrices U diag(s) V^T with singular values (or, when ``symmetric``, eigenvalues of
    either sign) at least ``gap`` apart and at least 0.5 in size, so that SVD and eigh
    gradients (which divide by their differences) stay finite."""
    batch = draw(batch_shapes()) if batch is None else batch
    rows = draw(st.integers(1, max_side)) if rows is None else rows
    cols = rows if symmetric else (draw(st.integers(1, max_side)) if cols is None else cols)
    count = min(rows, cols)
    steps = draw(hnp.arrays(np.float64, (count,), elements=st.floats(gap, 1.0)))
    values = 0.5 + np.cumsum(steps)
    if symmetric:
        values = values * draw(hnp.arrays(np.float64, (count,),
                                          elements=st.sampled_from([-1.0, 1.0])))
        order = np.argsort(values)
        values = values[order]
        gaps = np.diff(values)
        if gaps.size and gaps.min() < gap:  # a sign flip brought two values together
            values = values + np.arange(count) * gap
    left = draw(orthogonal_matrices(batch, rows))[..., :, :count]
    right = left if symmetric else draw(orthogonal_matrices(batch, cols))[..., :, :count]
    return (left * values) @ np.swapaxes(right, -1, -2)
