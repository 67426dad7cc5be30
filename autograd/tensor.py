"""Tensor: an ndarray that remembers the op that made it.

A Tensor produced by a recording op is a graph node: ``_op`` is the op instance and
``_inputs`` its inputs (Tensors or constants). Leaves have ``_op is None``. After a
backward without ``retain_graph`` a node's ``_inputs`` becomes ``None`` (freed).
Arithmetic, methods and NumPy dispatch are installed from the op registry.
"""
import numpy as np

from .dtypes import as_array, is_floating


class Tensor:
    """An n-dimensional array that can record operations for reverse-mode autodiff.

    Args:
        data: array-like; an ndarray keeps its dtype, Python floats take the default
            dtype (float32 unless changed with ``set_default_dtype``).
        requires_grad: record ops on this tensor and accumulate its gradient in ``grad``.
        dtype: optional dtype to convert ``data`` to.
        name: optional label shown in graph drawings.

    Raises:
        TypeError: ``requires_grad=True`` on an integer or boolean tensor.
    """

    # _mutated_by (clock, op name) is set by the first in-place change only, so that
    # creating a node stays as cheap as possible; read it with getattr and a default.
    __slots__ = ("data", "_requires_grad", "grad", "_op", "_inputs", "_version", "_hooks",
                 "_retains_grad", "_mutated_by", "name", "__weakref__")
    __array_priority__ = 1000
    __hash__ = object.__hash__

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        if isinstance(data, Tensor):
            data = data.data
        self.data = as_array(data, dtype)
        self._requires_grad = False
        self.grad = None
        self._op = None
        self._inputs = ()
        self._version = 0
        self._hooks = None
        self._retains_grad = False
        self.name = name
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _node(cls, data, op, inputs):
        """A recorded op result (internal fast constructor)."""
        node = object.__new__(Tensor)
        node.data = data
        node._requires_grad = True
        node.grad = None
        node._op = op
        node._inputs = inputs
        node._version = 0
        node._hooks = None
        node._retains_grad = False
        node.name = None
        return node

    @classmethod
    def _constant(cls, data):
        """A tensor that tracks no gradient (internal fast constructor)."""
        node = cls._node(data, None, ())
        node._requires_grad = False
        return node

    # --- gradient tracking -------------------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        flag = bool(flag)
        if flag and not is_floating(self.data.dtype):
            raise TypeError(f"only floating-point tensors can require gradients; "
                            f"this tensor has dtype {self.data.dtype}")
        if not flag and self._op is not None:
            raise RuntimeError("requires_grad can only be turned off on leaf tensors; "
                               "use .detach() for a non-leaf")
        self._requires_grad = flag

    def requires_grad_(self, flag=True):
        """Set ``requires_grad`` in place and return self."""
        self.requires_grad = flag
        return self

    @property
    def is_leaf(self):
        """True for tensors not produced by a recording op (inputs and parameters)."""
        return self._op is None

    @property
    def grad_fn(self):
        """The op that produced this tensor, or None for a leaf."""
        return self._op

    def backward(self, grad=None, retain_graph=False, create_graph=False):
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf that requires grad.

        Args:
            grad: gradient of some scalar w.r.t. this tensor; may be omitted for a
                one-element tensor (taken as 1).
            retain_graph: keep the graph so backward can run through it again.
            create_graph: record the backward pass itself, so ``.grad`` can be
                differentiated again (implies ``retain_graph``).
        """
        from .backward import run_backward
        run_backward((self,), (grad,), retain_graph=retain_graph or create_graph,
                     create_graph=create_graph)

    def zero_grad(self):
        """Forget the accumulated gradient."""
        self.grad = None

    def register_hook(self, hook):
        """Call ``hook(grad)`` with this tensor's gradient during backward; a returned
        tensor of the same shape replaces the gradient. Returns a handle whose
        ``remove()`` detaches the hook. See ``autograd.hooks``."""
        return hooks.register_hook(self, hook)

    def _run_hooks(self, grad):
        return hooks.run_hooks(self, grad)

    def retain_grad(self):
        """Keep the gradient of this non-leaf tensor in ``.grad`` after backward
        (leaves always keep theirs)."""
        if not self._requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad, so it has no "
                               "gradient to retain")
        if self._op is not None:
            self._retains_grad = True

    @property
    def retains_grad(self):
        """True for a non-leaf tensor whose gradient backward stores in ``.grad``."""
        return self._retains_grad

    def detach(self):
        """A tensor sharing this data that tracks no gradient."""
        return Tensor._constant(self.data)

    # --- array protocol ----------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def T(self):
        return self.transpose()

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self.data)))

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item(): expected a tensor with one element, got shape {self.shape}")
        return self.data.item()

    def numpy(self):
        """The underlying ndarray (shared, not copied)."""
        return self.data

    def tolist(self):
        return self.data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        return bool(self.data)

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extras = []
        if self.data.dtype != np.float32 and self.data.dtype != np.int64:
            extras.append(f"dtype={self.data.dtype}")
        if self._op is not None:
            extras.append(f"grad_fn=<{self._op.name}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "Tensor(" + ", ".join([body] + extras) + ")"

    # --- comparisons: values only, never differentiable -----------------------------------
    def __lt__(self, other):
        return Tensor._constant(self.data < _value(other))

    def __le__(self, other):
        return Tensor._constant(self.data <= _value(other))

    def __gt__(self, other):
        return Tensor._constant(self.data > _value(other))

    def __ge__(self, other):
        return Tensor._constant(self.data >= _value(other))

    def __eq__(self, other):
        return Tensor._constant(self.data == _value(other))

    def __ne__(self, other):
        return Tensor._constant(self.data != _value(other))

    # --- NumPy dispatch ------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return numpy_dispatch.dispatch_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return numpy_dispatch.dispatch_function(func, args, kwargs)


def _value(x):
    return x.data if isinstance(x, Tensor) else x


# In-place methods (add_, mul_, zero_, __setitem__, +=, ...) and their version counting
# live in autograd/inplace.py, which installs them on Tensor. NumPy dispatch is imported
# here, once, rather than inside __array_ufunc__ on every call.
from . import hooks, inplace, numpy_dispatch  # noqa: E402
inplace.install()
