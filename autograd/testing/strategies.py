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
           "elementwise", "where_args", "axes_for", "reduction", "st", "hnp",
           "reshape_args", "transpose_args", "broadcast_to_args", "swapaxes_args",
           "expand_dims_args", "squeeze_args", "flip_args", "pad_args", "repeat_args",
           "tile_args", "concatenate_args", "stack_args", "split_args", "getitem_args",
           "scatter_add_args", "var_args", "prod_args", "softmax_args", "matmul_args",
           "dot_args", "tensordot_args", "einsum_args"]

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
def where_args(draw):
    """``(condition, x, y)`` with condition a boolean array, all broadcastable."""
    cond_shape, x_shape, y_shape = draw(broadcastable_shapes(3))
    condition = draw(hnp.arrays(np.bool_, cond_shape))
    return (condition, draw(arrays(x_shape)), draw(arrays(y_shape))), {}


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


# --- samples for the shape, index, reduction, linear-algebra and softmax ops -------------
# Each returns ``(args, kwargs)`` as the op's registry entry expects.

def _size(shape):
    return int(np.prod(shape)) if shape else 1


def _prime_factors(n):
    factors, p = [], 2
    while n > 1:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    return factors


@st.composite
def reshape_args(draw):
    """``((x,), {shape})`` with a target of the same size (maybe one -1, maybe extra 1s)."""
    x = draw(arrays(shapes()))
    factors = draw(st.permutations(_prime_factors(x.size)))
    cuts = sorted(draw(st.lists(st.integers(0, len(factors)), max_size=3)))
    bounds = [0] + cuts + [len(factors)]
    target = [_size(factors[a:b]) for a, b in zip(bounds, bounds[1:])]
    for _ in range(draw(st.integers(0, 2))):
        target.insert(draw(st.integers(0, len(target))), 1)
    if target and draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return (x,), {"shape": tuple(target)}


@st.composite
def transpose_args(draw):
    """``((x,), {axes})`` with axes None or a permutation."""
    x = draw(arrays(shapes()))
    axes = draw(st.one_of(st.none(), st.permutations(range(x.ndim)).map(tuple)))
    return (x,), {"axes": axes}


@st.composite
def broadcast_to_args(draw):
    """``((x,), {shape})`` with a shape x broadcasts to: new leading axes, size-1 sides grown."""
    x = draw(arrays(shapes(max_dims=3)))
    grown = [draw(st.integers(1, 3)) if side == 1 else side for side in x.shape]
    leading = draw(st.lists(st.integers(1, 3), max_size=MAX_DIMS - x.ndim))
    return (x,), {"shape": tuple(leading + grown)}


@st.composite
def swapaxes_args(draw):
    """``((x,), {axis1, axis2})``, axes possibly negative or equal."""
    x = draw(arrays(shapes(min_dims=1)))
    axis = st.integers(-x.ndim, x.ndim - 1)
    return (x,), {"axis1": draw(axis), "axis2": draw(axis)}


@st.composite
def expand_dims_args(draw):
    """``((x,), {axis})``: an int or a tuple of distinct positions in the result."""
    x = draw(arrays(shapes(max_dims=3)))
    count = draw(st.integers(1, MAX_DIMS - x.ndim + 1))
    out_ndim = x.ndim + count
    positions = draw(st.lists(st.integers(0, out_ndim - 1), min_size=count, max_size=count,
                              unique=True))
    positions = [p - out_ndim if draw(st.booleans()) else p for p in positions]
    axis = positions[0] if count == 1 and draw(st.booleans()) else tuple(positions)
    return (x,), {"axis": axis}


@st.composite
def squeeze_args(draw):
    """``((x,), kwargs)`` for squeeze: axis None (or omitted), or some of the size-1 axes."""
    shape = draw(shapes(max_side=2))
    x = draw(arrays(shape))
    ones = [i for i, side in enumerate(shape) if side == 1]
    choice = draw(st.sampled_from(["omitted", "none"] + (["int", "tuple"] if ones else [])))
    if choice == "omitted":
        return (x,), {}
    if choice == "none":
        return (x,), {"axis": None}
    if choice == "int":
        negative = draw(st.booleans())
        return (x,), {"axis": draw(st.sampled_from(ones)) - (len(shape) if negative else 0)}
    return (x,), {"axis": tuple(draw(st.lists(st.sampled_from(ones), min_size=1, unique=True)))}


@st.composite
def flip_args(draw):
    """``((x,), {axis})`` with axis None, an int or a tuple."""
    x = draw(arrays(shapes()))
    return (x,), {"axis": draw(axes_for(x.ndim))}


@st.composite
def pad_args(draw):
    """``((x,), {pad_width, constant_values})`` in NumPy's pad_width forms."""
    x = draw(arrays(shapes(min_dims=1, max_dims=3)))
    width = st.integers(0, 2)
    form = draw(st.sampled_from(["int", "pair", "per_axis"]))
    if form == "int":
        pad_width = draw(width)
    elif form == "pair":
        pad_width = (draw(width), draw(width))
    else:
        pad_width = tuple((draw(width), draw(width)) for _ in range(x.ndim))
    kwargs = {"pad_width": pad_width}
    if draw(st.booleans()):
        kwargs["constant_values"] = draw(st.floats(-2.0, 2.0))
    return (x,), kwargs


@st.composite
def repeat_args(draw):
    """``((x,), {repeats, axis})``: an int count or one count per element along axis."""
    x = draw(arrays(shapes(max_dims=3)))
    axis = draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1))) if x.ndim else None
    length = x.size if axis is None else x.shape[axis]
    if draw(st.booleans()):
        repeats = draw(st.integers(0, 3))
    else:
        repeats = np.array(draw(st.lists(st.integers(0, 3), min_size=length, max_size=length)),
                           dtype=np.int64)
    return (x,), {"repeats": repeats, "axis": axis}


@st.composite
def tile_args(draw):
    """``((x,), {reps})`` with reps an int or a tuple shorter or longer than x.ndim."""
    x = draw(arrays(shapes(max_dims=3, max_side=3)))
    if draw(st.booleans()):
        reps = draw(st.integers(1, 3))
    else:
        reps = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=MAX_DIMS)))
    return (x,), {"reps": reps}


@st.composite
def concatenate_args(draw):
    """``(([a, b, ...],), {axis})``: 1 to 3 arrays that agree except along ``axis``
    (or flattened, axis None)."""
    count = draw(st.integers(1, 3))
    if draw(st.integers(0, 4)) == 0:
        return (tuple(draw(arrays(shapes())) for _ in range(count)),), {"axis": None}
    shape = list(draw(shapes(min_dims=1)))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    parts = []
    for _ in range(count):
        shape[axis] = draw(st.integers(1, 3))
        parts.append(draw(arrays(tuple(shape))))
    return (parts,), {"axis": axis}


@st.composite
def stack_args(draw):
    """``(([a, b, ...],), {axis})``: 1 to 3 arrays of one shape, axis in the result."""
    shape = draw(shapes(max_dims=3))
    parts = [draw(arrays(shape)) for _ in range(draw(st.integers(1, 3)))]
    return (parts,), {"axis": draw(st.integers(-len(shape) - 1, len(shape)))}


@st.composite
def split_args(draw):
    """``((x, indices_or_sections), {axis})``: a divisor of the axis length, or cut points
    (sorted, possibly repeated or past the end, as NumPy allows)."""
    shape = draw(shapes(min_dims=1))
    x = draw(arrays(shape))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    length = shape[axis]
    if draw(st.booleans()):
        sections = draw(st.sampled_from([d for d in range(1, length + 1) if length % d == 0]))
    else:
        sections = sorted(draw(st.lists(st.integers(0, length + 1), max_size=3)))
    return (x, sections), {"axis": axis}


@st.composite
def _index_for(draw, shape):
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
def getitem_args(draw):
    """``((x,), {index})`` for ``x[index]``."""
    shape = draw(shapes())
    return (draw(arrays(shape)),), {"index": draw(_index_for(shape))}


@st.composite
def scatter_add_args(draw):
    """``((values,), {shape, index})`` where values has the shape of ``x[index]``."""
    shape = draw(shapes())
    index = draw(_index_for(shape))
    target = np.empty(shape)[index].shape
    return (draw(arrays(target)),), {"shape": shape, "index": index}


@st.composite
def var_args(draw, min_count=1):
    """``((x,), {axis, ddof, keepdims})`` leaving at least ``min_count`` elements and one
    degree of freedom per reduction; distinct values, so the spread is never zero."""
    shape = draw(shapes())
    axis = draw(axes_for(len(shape)))
    axes = range(len(shape)) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    count = _size([shape[a] for a in axes])
    if count < min_count:
        shape, axis, count = shape + (min_count,), None, _size(shape) * min_count
    ddof = draw(st.sampled_from([0, 1] if count > 1 else [0]))
    return (draw(distinct_arrays(shape)),), {"axis": axis, "ddof": ddof,
                                             "keepdims": draw(st.booleans())}


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


@st.composite
def softmax_args(draw):
    """``((x,), {axis})`` with ndim >= 1 (axis omitted sometimes: the default -1)."""
    x = draw(arrays(shapes(min_dims=1), low=-5.0, high=5.0))
    if draw(st.booleans()):
        return (x,), {}
    return (x,), {"axis": draw(st.integers(-x.ndim, x.ndim - 1))}


@st.composite
def matmul_args(draw):
    """``((a, b), {})`` under np.matmul's rules: 1-D or batched operands whose batch
    dimensions broadcast."""
    m, k, n = (draw(st.integers(1, 4)) for _ in range(3))
    batch_a, batch_b = draw(broadcastable_shapes(2, max_dims=2))
    a_shape = (k,) if draw(st.integers(0, 3)) == 0 else batch_a + (m, k)
    b_shape = (k,) if draw(st.integers(0, 3)) == 0 else batch_b + (k, n)
    return (draw(arrays(a_shape)), draw(arrays(b_shape))), {}


@st.composite
def dot_args(draw):
    """``((a, b), {})`` for np.dot: 0-d with anything, or a's last axis matching b's
    second-to-last (only, when 1-D)."""
    k = draw(st.integers(1, 4))
    a_ndim, b_ndim = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    side = st.integers(1, 3)
    if a_ndim == 0 or b_ndim == 0:
        a_shape = draw(shapes(max_dims=3)) if a_ndim else ()
        b_shape = draw(shapes(max_dims=3)) if b_ndim else ()
    else:
        a_shape = tuple(draw(side) for _ in range(a_ndim - 1)) + (k,)
        b_batch = tuple(draw(side) for _ in range(b_ndim - 2))
        b_shape = (k,) if b_ndim == 1 else b_batch + (k, draw(side))
    return (draw(arrays(a_shape)), draw(arrays(b_shape))), {}


@st.composite
def tensordot_args(draw):
    """``((a, b), {axes})`` with axes an int (a's last N with b's first N) or a pair of
    axis lists in any order (negative axes included)."""
    summed = draw(st.lists(st.integers(1, 3), max_size=2))
    free_a = draw(st.lists(st.integers(1, 3), max_size=2))
    free_b = draw(st.lists(st.integers(1, 3), max_size=2))
    if draw(st.booleans()):
        a_shape, b_shape = tuple(free_a + summed), tuple(summed + free_b)
        axes = len(summed)
    else:
        a_order = draw(st.permutations(range(len(free_a) + len(summed))))
        b_order = draw(st.permutations(range(len(free_b) + len(summed))))
        a_sides, b_sides = free_a + summed, summed + free_b
        a_shape = tuple(a_sides[i] for i in a_order)
        b_shape = tuple(b_sides[i] for i in b_order)
        a_axes = [list(a_order).index(len(free_a) + i) for i in range(len(summed))]
        b_axes = [list(b_order).index(i) for i in range(len(summed))]
        if draw(st.booleans()):
            a_axes = [axis - len(a_shape) for axis in a_axes]
        axes = (a_axes, b_axes)
    return (draw(arrays(a_shape)), draw(arrays(b_shape))), {"axes": axes}


@st.composite
def einsum_args(draw, max_operands=3):
    """``((subscripts, *operands), {})``: random terms over a few letters, explicit or
    implicit output, sometimes a repeated letter (a diagonal) or a '...' batch."""
    letters = "abcde"
    sides = {c: draw(st.integers(1, 3)) for c in letters}
    count = draw(st.integers(1, max_operands))
    terms = []
    for _ in range(count):
        term = draw(st.lists(st.sampled_from(letters), max_size=3, unique=True))
        if term and draw(st.integers(0, 5)) == 0:
            term.insert(draw(st.integers(0, len(term))), draw(st.sampled_from(term)))
        terms.append("".join(term))
    with_batch = draw(st.integers(0, 3)) == 0
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2))) if with_batch else None
    operands, spelled = [], []
    for term in terms:
        shape = tuple(sides[c] for c in term)
        if batch is not None:
            own = batch[len(batch) - draw(st.integers(0, len(batch))):]
            own = tuple(1 if draw(st.integers(0, 3)) == 0 else side for side in own)
            shape, term = own + shape, "..." + term
        operands.append(draw(arrays(shape)))
        spelled.append(term)
    used = sorted(set("".join(terms)))
    if draw(st.booleans()):
        output = "".join(draw(st.permutations(used))[:draw(st.integers(0, len(used)))])
        subscripts = ",".join(spelled) + "->" + ("..." if batch is not None else "") + output
    else:
        subscripts = ",".join(spelled)
    return (subscripts, *operands), {}


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
