"""NumPy functions and ufuncs called on Tensors dispatch to the registered ops.

``np.exp(x)``, ``np.sum(x, axis=0)``, ``ndarray + x`` record the graph exactly as
``x.exp()`` would. A NumPy callable with no registered op raises TypeError naming it,
rather than silently turning a Tensor into an array and dropping the graph.

``out=`` means an in-place write. Into a plain ndarray (``w.data -= lr * w.grad``, the
source notes' update line) it is NumPy on the values, as the user meant: an ndarray
records no graph. Into a Tensor it is the tensor's in-place update, with its version
bumped and the same rules as ``add_``; ``np.copyto(t, values)`` is ``t.copy_(values)``.
"""
import numpy as np

from .inplace import write
from .op import REGISTRY
from .tensor import Tensor, unwrap

_table = None


def _values(args):
    return [[unwrap(item) for item in a] if isinstance(a, (list, tuple)) else unwrap(a)
            for a in args]


def _non_differentiable(func):
    """Run ``func`` on the plain data; array results come back as Tensors without grad."""
    def call(*args, **kwargs):
        result = func(*_values(args), **{k: unwrap(v) for k, v in kwargs.items()})
        return Tensor._constant(result) if isinstance(result, np.ndarray) else result
    return call


def _copyto(dst, src, casting="same_kind", where=True):
    """``np.copyto`` into a Tensor is its in-place ``copy_`` (version bumped, rules checked)."""
    if not isinstance(dst, Tensor):
        return np.copyto(dst, unwrap(src), casting=casting, where=unwrap(where))

    def store(data, value):
        np.copyto(data, value, casting=casting, where=unwrap(where))
    write(dst, "numpy.copyto", src, store)


# Value-only NumPy callables: their results carry no gradient, so nothing is dropped.
_VALUE_ONLY = (
    np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal,
    np.rint,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor, np.signbit,
    np.shape, np.ndim, np.size, np.result_type, np.allclose, np.isclose, np.array_equal,
    np.any, np.all, np.count_nonzero, np.nonzero, np.unique, np.array_equiv,
    np.iscomplexobj, np.isrealobj,
)


def _build_table():
    table = {np.copyto: _copyto}
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


def _unsupported(what):
    return TypeError(f"{what} has no registered autograd op, so it cannot be applied to a "
                     f"Tensor without dropping the graph; use the array (x.data) if no "
                     f"gradient is needed, or define it with autograd.Function")


def _ufunc_into(ufunc, inputs, kwargs):
    """``ufunc(..., out=...)``: a write into the given arrays or tensors (module doc)."""
    out = kwargs.pop("out")
    out = out if isinstance(out, tuple) else (out,)
    if len(out) != 1:
        raise TypeError(f"numpy.{ufunc.__name__}: out= with {len(out)} outputs is not "
                        f"supported on Tensors")
    (target,) = out
    values = [unwrap(x) for x in inputs]
    kwargs = {key: unwrap(value) for key, value in kwargs.items()}
    if not isinstance(target, Tensor):
        return ufunc(*values, out=target, **kwargs)

    def store(data, _):
        ufunc(*values, out=data, **kwargs)
    others = [x for x in inputs if x is not target]
    graph_input = next((x for x in others if isinstance(x, Tensor) and x._requires_grad), None)
    return write(target, f"numpy.{ufunc.__name__} (out=)", graph_input, store)


def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
    if method != "__call__":
        raise TypeError(f"numpy.{ufunc.__name__}.{method} is not supported on Tensors: it has "
                        f"no registered autograd op; use the array (x.data) if no gradient is needed")
    if kwargs.get("out") is not None:
        return _ufunc_into(ufunc, inputs, kwargs)
    kwargs.pop("out", None)
    function = _lookup(ufunc)
    if function is None:
        raise _unsupported(f"numpy.{ufunc.__name__}")
    return function(*inputs, **kwargs)


def __array_function__(self, func, types, args, kwargs):
    function = _lookup(func)
    if function is None:
        raise _unsupported(f"numpy.{func.__name__}")
    return function(*args, **kwargs)


Tensor.__array_ufunc__ = __array_ufunc__
Tensor.__array_function__ = __array_function__
