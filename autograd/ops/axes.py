"""Axis arguments, checked once for every op family that takes them."""
import numpy as np


def normalize_axes(axis, ndim, op_name):
    """``axis`` as a sorted tuple of non-negative ints; raises ValueError naming the op."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    result = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{op_name}: axis must be an int, a tuple of ints or None, "
                            f"got {axis!r}")
        if not -ndim <= a < max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise ValueError(f"{op_name}: axis {a} is out of range for a {ndim}-d input")
        result.append(int(a) % max(ndim, 1))
    if len(set(result)) != len(result):
        raise ValueError(f"{op_name}: axis {axis!r} repeats an axis")
    return tuple(sorted(result)) if ndim else ()


def torch_dims(x, axis):
    """``axis`` as PyTorch's ``dim``: every axis when None (for parity hints)."""
    return tuple(range(x.ndim)) if axis is None else axis
