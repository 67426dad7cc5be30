"""Hypothesis strategies for gradient tests, built on ``hypothesis.extra.numpy``.

Element values keep a margin away from kinks and poles (``avoid``), because finite
differences across a kink measure neither one-sided derivative. Op test hints in the
registry call these with the arguments that suit each op.
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..tensor import Tensor

__all__ = ["shapes", "broadcastable_shapes", "arrays", "tensors", "distinct_arrays",
           "elementwise", "where_args", "axes_for", "reduction", "st", "hnp"]

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
