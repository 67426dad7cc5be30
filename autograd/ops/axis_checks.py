"""Axis checking for the scan, sorting, gathering and linear-algebra ops: errors that
name the op, the argument and the input's shape."""
import numpy as np


def axis_in_range(axis, shape, op_name, argument="axis"):
    """``axis`` as a non-negative int for an input of ``shape``.

    Raises TypeError for a non-int and ValueError for an axis out of range, each naming
    ``op_name``, ``argument`` and the shape.
    """
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{op_name}: {argument} must be an int, got {axis!r}")
    ndim = len(shape)
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op_name}: {argument}={axis} is out of range for an input of shape "
                         f"{tuple(shape)} (valid: {-ndim} to {ndim - 1})")
    return int(axis) % ndim
