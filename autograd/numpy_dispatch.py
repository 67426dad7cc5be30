"""NumPy functions and ufuncs called on Tensors dispatch to the registered ops.

``np.exp(x)``, ``np.sum(x, axis=0)``, ``ndarray + x`` record the graph exactly as
``x.exp()`` would. A NumPy callable with no registered op raises TypeError naming it,
rather than silently turning a Tensor into an array and dropping the graph.
"""
import numpy as np

from .op import REGISTRY
from .tensor import Tensor

_table = None


def _value(x):
    return x.data if isinstance(x, Tensor) else x


def _values(args):
    return [[_value(item) for item in a] if isinstance(a, (list, tuple)) else _value(a)
            for a in args]


def _non_differentiable(func):
    """Run ``func`` on the plain data; array results come back as Tensors without grad."""
    def call(*args, **kwargs):
        result = func(*_values(args), **{k: _value(v) for k, v in kwargs.items()})
        return Tensor._constant(result) if isinstance(result, np.ndarray) else result
    return call


# Value-only NumPy callables: their results carry no gradient, so nothing is dropped.
_VALUE_ONLY = (
    np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal,
    np.isnan, np.isinf, np.isfinite, np.floor, np.ceil, np.rint, np.trunc,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor, np.signbit,
    np.shape, np.ndim, np.size, np.result_type, np.allclose, np.isclose, np.array_equal,
    np.any, np.all, np.count_nonzero, np.nonzero, np.argsort, np.unique, np.array_equiv,
    np.iscomplexobj, np.isrealobj, np.round, np.around, np.sort, np.copyto,
)


def _build_table():
    table = {}
    for entry in REGISTRY.values():
        for numpy_callable in entry.numpy:
            table[numpy_callable] = entry.function
    for func in _VALUE_ONLY:
        table.setdefault(func, _non_differentiable(func))
    return table


def _lookup(func):
    global _table
    if _table is None:
        _table = _build_table()
    return _table.get(func)


def dispatch_ufunc(ufunc, method, inputs, kwargs):
    if method != "__call__":
        raise TypeError(f"numpy.{ufunc.__name__}.{method} is not supported on Tensors: it has "
                        f"no registered autograd op; use the array (x.data) if no gradient is needed")
    if kwargs.get("out") is not None:
        raise TypeError(f"numpy.{ufunc.__name__}: out= is not supported on Tensors "
                        f"(autograd ops never write into existing arrays)")
    kwargs.pop("out", None)
    function = _lookup(ufunc)
    if function is None:
        raise TypeError(f"numpy.{ufunc.__name__} has no registered autograd op, so it cannot "
                        f"be applied to a Tensor without dropping the graph; use the array "
                        f"(x.data) if no gradient is needed, or define it with autograd.Function")
    return function(*inputs, **kwargs)


def dispatch_function(func, args, kwargs):
    function = _lookup(func)
    if function is None:
        raise TypeError(f"numpy.{func.__name__} has no registered autograd op, so it cannot be "
                        f"applied to a Tensor without dropping the graph; use the array "
                        f"(x.data) if no gradient is needed, or define it with autograd.Function")
    return function(*args, **kwargs)
