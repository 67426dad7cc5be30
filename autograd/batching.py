"""Batching rules for ``vmap``: how each op runs on a whole batch at once.

Under ``vmap`` an op's batched inputs arrive with the batch on axis 0 (``values``,
``batched[i]`` says which); unbatched ones are as the function gave them. A rule
returns the op's result for the whole batch, batch on axis 0, by calling the op (or
others) once on the batched arrays, axes shifted past the batch axis. Rules are
attached to the op classes (``batch_rule = batch_elementwise`` beside ``forward``) and
called as ``op_cls.batch_rule(op_cls, values, batched, params, size)``; everything they
call goes through ``apply``, so outer transforms and reverse mode see it.

Most ops need one of the shared rules here: ``batch_elementwise`` (broadcasting ops:
give every batched input the full rank so the batch axis lines up),
``batch_reduction`` and ``batch_axis`` (shift ``axis`` by one), ``batch_leading`` (ops
that already treat leading axes as batch, e.g. ``linear``, ``layer_norm``),
``batch_merged`` (ops that take an (N, ...) batch of their own, e.g. conv2d: fold the
vmap batch into N). An op without a rule runs once per batch element (a Python loop)
and ``vmap`` warns, naming it (``quiet_loops`` silences that for transforms that only
use ``vmap`` inside, such as ``jacfwd`` and ``jacrev``, where the loop is an accepted path).
"""
import contextlib
import threading
import warnings

import numpy as np

from .op import apply, functions

_loops = threading.local()


def logical_ndim(value):
    return value.ndim if hasattr(value, "ndim") else np.ndim(value)


def logical_shape(value):
    return tuple(value.shape) if hasattr(value, "shape") else np.shape(value)


def with_rank(value, ndim):
    """A batched value (batch on axis 0) with size-1 axes inserted after the batch axis
    until its per-element rank is ``ndim`` (so broadcasting lines the batch axes up)."""
    shape = logical_shape(value)
    missing = ndim - (len(shape) - 1)
    if missing <= 0:
        return value
    (reshape,) = functions("reshape")
    return reshape(value, shape[:1] + (1,) * missing + shape[1:])


def materialized(value, size):
    """An unbatched value repeated along a new batch axis 0 (a broadcast view)."""
    expand_dims, broadcast_to = functions("expand_dims", "broadcast_to")
    shape = logical_shape(value)
    return broadcast_to(expand_dims(value, 0), (size,) + shape)


def batch_elementwise(op_cls, values, batched, params, size):
    """Broadcasting ops: batched inputs get the full rank, unbatched ones broadcast."""
    rank = max(logical_ndim(v) - b for v, b in zip(values, batched))
    aligned = tuple(with_rank(v, rank) if b else v for v, b in zip(values, batched))
    return apply(op_cls, aligned, params)


def shifted(axis, ndim, op_name):
    """A per-element ``axis`` (int or tuple) as an axis of the batched array."""
    from .ops.axes import normalize_axes
    axes = normalize_axes(axis, ndim, op_name)
    if isinstance(axis, (tuple, list)):
        return tuple(a + 1 for a in axes)
    return axes[0] + 1 if axes else 0


def batch_reduction(op_cls, values, batched, params, size):
    """Reductions over ``axis`` (None: every per-element axis)."""
    (x,) = values
    ndim = logical_ndim(x) - 1
    axis = params.get("axis")
    if axis is None:
        new_axis = tuple(range(1, ndim + 1))
    else:
        new_axis = shifted(axis, ndim, op_cls.name)
    return apply(op_cls, (x,), dict(params, axis=new_axis))


def batch_arg_reduction(op_cls, values, batched, params, size):
    """argmax/argmin: ``axis=None`` means the flattened element."""
    (x,) = values
    ndim = logical_ndim(x) - 1
    axis = params.get("axis")
    if axis is None:
        (reshape,) = functions("reshape")
        out = apply(op_cls, (reshape(x, (size, -1)),), dict(params, axis=1))
        return reshape(out, (size,) + (1,) * ndim) if params.get("keepdims") else out
    return apply(op_cls, (x,), dict(params, axis=shifted(axis, ndim, op_cls.name)))


def batch_axis(default):
    """Ops with one ``axis`` parameter (default ``default``), e.g. softmax."""
    def rule(op_cls, values, batched, params, size):
        (x,) = values
        axis = params.get("axis", default)
        return apply(op_cls, (x,), dict(params, axis=shifted(axis, logical_ndim(x) - 1,
                                                              op_cls.name)))
    return rule


def batch_axis_or_flattened(default):
    """Ops with one ``axis`` where None means the flattened element (cumsum, sort)."""
    def rule(op_cls, values, batched, params, size):
        (x,) = values
        axis = params.get("axis", default)
        if axis is None:
            (reshape,) = functions("reshape")
            return apply(op_cls, (reshape(x, (size, -1)),), dict(params, axis=1))
        return apply(op_cls, (x,), dict(params, axis=shifted(axis, logical_ndim(x) - 1,
                                                              op_cls.name)))
    return rule


def batch_leading(op_cls, values, batched, params, size):
    """Ops that treat every leading axis of their first input as a batch axis, given
    that only the first input is batched (otherwise: one call per element)."""
    if any(batched[1:]):
        return batch_loop(op_cls, values, batched, params, size)
    return apply(op_cls, values, params)


def batch_merged(op_cls, values, batched, params, size):
    """Ops on an (N, ...) batch of their own (conv2d, pooling): fold the vmap batch
    into N, given that only the first input is batched."""
    if any(batched[1:]):
        return batch_loop(op_cls, values, batched, params, size)
    (reshape,) = functions("reshape")
    x = values[0]
    shape = logical_shape(x)
    out = apply(op_cls, (reshape(x, (shape[0] * shape[1],) + shape[2:]),) + tuple(values[1:]),
                params)
    return reshape(out, (size, shape[1]) + logical_shape(out)[1:])


@contextlib.contextmanager
def quiet_loops():
    """Within the block ``batch_loop`` runs without its warning (this thread only)."""
    before = getattr(_loops, "quiet", False)
    _loops.quiet = True
    try:
        yield
    finally:
        _loops.quiet = before


def batch_loop(op_cls, values, batched, params, size):
    """The fallback: run the op once per batch element and stack the results."""
    if not getattr(_loops, "quiet", False):
        warnings.warn(f"vmap: op '{op_cls.name}' has no batching rule for these inputs; "
                      f"running it once per batch element (a Python loop)", stacklevel=2)
    (stack,) = functions("stack")
    results = []
    for index in range(size):
        inputs = tuple(v[index] if b else v for v, b in zip(values, batched))
        results.append(apply(op_cls, inputs, params))
    return stack(results, axis=0)
