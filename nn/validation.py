"""Argument checks for layer constructors and functions, with PyTorch-like messages.

Each check takes the owner's name (``"Linear"``, ``"flatten"``), the argument's name and
its value, and returns the value normalised (a Python ``int``, a ``float``) or raises a
``TypeError`` (wrong kind of value) or ``ValueError`` (right kind, out of range) that
names all three, e.g. ``Linear: in_features must be a positive integer, got -1``.

Booleans are refused wherever a number is expected (``True`` is an ``int`` to Python,
never a size to a reader), and floats are refused where an integer is expected, even
integral ones such as ``3.0``, as PyTorch does.
"""
import operator

import numpy as np

__all__ = ["positive_int", "non_negative_int", "integer", "boolean", "probability",
           "number", "positive_float", "non_negative_float", "normalize_dim"]


def _is_integer(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_real(value):
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, (bool, np.bool_)))


def integer(owner, name, value):
    """``value`` as a Python int; TypeError for anything else (bools and floats too)."""
    if not _is_integer(value):
        raise TypeError(f"{owner}: {name} must be an integer, got {value!r} "
                        f"({type(value).__name__})")
    return operator.index(value)


def positive_int(owner, name, value):
    """``value`` as a Python int >= 1."""
    if not _is_integer(value) or value < 1:
        error = TypeError if not _is_integer(value) else ValueError
        raise error(f"{owner}: {name} must be a positive integer, got {value!r}")
    return int(value)


def non_negative_int(owner, name, value):
    """``value`` as a Python int >= 0."""
    if not _is_integer(value) or value < 0:
        error = TypeError if not _is_integer(value) else ValueError
        raise error(f"{owner}: {name} must be a non-negative integer, got {value!r}")
    return int(value)


def boolean(owner, name, value):
    """``value`` as a bool; only ``True``/``False`` (and NumPy bools) are accepted."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be True or False, got {value!r}")
    return bool(value)


def _real(owner, name, value, expected):
    if not _is_real(value):
        raise TypeError(f"{owner}: {name} must be {expected}, got {value!r} "
                        f"({type(value).__name__})")
    value = float(value)
    if value != value:
        raise ValueError(f"{owner}: {name} must be {expected}, got nan")
    return value


def number(owner, name, value):
    """``value`` as a float (any real number but nan)."""
    return _real(owner, name, value, "a number")


def probability(owner, name, value):
    """``value`` as a float in [0, 1]."""
    value = _real(owner, name, value, "a probability between 0 and 1")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{owner}: {name} must be a probability between 0 and 1, got {value}")
    return value


def positive_float(owner, name, value):
    """``value`` as a finite float > 0."""
    value = _real(owner, name, value, "a positive number")
    if not 0.0 < value < float("inf"):
        raise ValueError(f"{owner}: {name} must be a positive number, got {value}")
    return value


def non_negative_float(owner, name, value):
    """``value`` as a finite float >= 0."""
    value = _real(owner, name, value, "a non-negative number")
    if not 0.0 <= value < float("inf"):
        raise ValueError(f"{owner}: {name} must be a non-negative number, got {value}")
    return value


def normalize_dim(owner, name, dim, ndim):
    """``dim`` in ``range(ndim)``, negative dims counted from the end, as PyTorch checks
    them: a 0-d input is treated as 1-d (its valid dims are -1 and 0), and anything
    outside ``[-ndim, ndim - 1]`` raises IndexError ("Dimension out of range")."""
    dim = integer(owner, name, dim)
    rank = max(ndim, 1)
    if not -rank <= dim < rank:
        raise IndexError(f"{owner}: {name} is out of range (expected to be in range of "
                         f"[{-rank}, {rank - 1}], but got {dim}) for a {ndim}-d input")
    return dim % rank
