"""Tensor: an ndarray that remembers the op that made it.

This is the ground floor of the engine: it imports nothing of ``autograd`` but dtypes,
grad mode and version counters. A Tensor produced by a recording op is a graph node:
``grad_fn`` is the op and ``inputs`` its inputs (``_op``/``_inputs`` inside the engine).
Leaves have no op. After a backward without ``retain_graph`` a node's inputs are
dropped (freed).

The layers above attach what they implement, each in one visible place: the op
registry (``autograd/op.py``) adds every op's method and operator, ``inplace.py`` the
in-place methods, ``hooks.py`` ``register_hook``, ``backward.py`` ``backward`` and
``numpy_dispatch.py`` the NumPy protocol. ``autograd/tensor.pyi`` lists the whole
surface for readers, IDEs and type checkers (``tests/test_layers.py`` keeps it in sync).
"""
import numpy as np

from .dtypes import as_array, is_floating
from .versions import counter_of


class Tensor:
    """An n-dimensional array that can record operations for reverse-mode autodiff.

    Args:
        data: array-like; an ndarray keeps its dtype, Python floats take the default
            dtype (float32 unless changed with ``set_default_dtype``).
        requires_grad: record ops on this tensor and accumulate its gradient in ``grad``.
        dtype: optional dtype to convert ``data`` to.
        name: optional label shown in graph drawings.

    Raises:
        TypeError: non-numeric data, or ``requires_grad=True`` on an integer or boolean
            tensor.
    """

    __slots__ = ("data", "_requires_grad", "grad", "_op", "_inputs", "_counter", "_hooks",
                 "_retains_grad", "name", "__weakref__")
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
        self._counter = None
        self._hooks = None
        self._retains_grad = False
        self.name = name
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _node(cls, data, op, inputs):
        """A recorded op result (the engine's fast constructor)."""
        node = object.__new__(Tensor)
        node.data = data
        node._requires_grad = True
        node.grad = None
        node._op = op
        node._inputs = inputs
        node._counter = None
        node._hooks = None
        node._retains_grad = False
        node.name = None
        return node

    @classmethod
    def _constant(cls, data):
        """A tensor that tracks no gradient (the engine's fast constructor)."""
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
        """The op that produced this tensor (``.name``, ``.scope``), or None for a leaf."""
        return self._op

    @property
    def inputs(self):
        """The op's inputs (Tensors and constants) for a recorded result, ``()`` for a leaf.

        Raises:
            RuntimeError: the graph behind this tensor was freed by a backward pass.
        """
        if self._inputs is None:
            raise RuntimeError(f"the graph of op '{self._op.name}' was freed by backward(); "
                               f"pass retain_graph=True to keep it")
        return self._inputs

    def zero_grad(self):
        """Forget the accumulated gradient."""
        self.grad = None

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
        """A tensor sharing this data (and its version counter) that tracks no gradient."""
        detached = Tensor._constant(self.data)
        detached._counter = counter_of(self)
        return detached

    @property
    def _version(self):
        """How often this tensor (or a view sharing its data) was changed in place."""
        return 0 if self._counter is None else self._counter.version

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
        """The number of elements, as NumPy's ``size`` (``numel()`` is PyTorch's name)."""
        return self.data.size

    def numel(self):
        """The number of elements (PyTorch's name for ``size``)."""
        return self.data.size

    def dim(self):
        """The number of dimensions (PyTorch's name for ``ndim``)."""
        return self.data.ndim

    @property
    def T(self):
        return self.transpose()

    def float(self):
        """This tensor as float32 (recorded: gradients flow back through the cast)."""
        return self.astype(np.float32)

    def double(self):
        """This tensor as float64 (recorded: gradients flow back through the cast)."""
        return self.astype(np.float64)

    def any(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Whether any element is nonzero (over ``axis``/``dim``); a constant bool tensor."""
        return Tensor._constant(np.any(self.data, axis=_axis(axis, dim), keepdims=keepdims or bool(keepdim)))

    def all(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Whether every element is nonzero (over ``axis``/``dim``); a constant bool tensor."""
        return Tensor._constant(np.all(self.data, axis=_axis(axis, dim), keepdims=keepdims or bool(keepdim)))

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

    # --- Python number protocol, for one-element tensors as in PyTorch ---------------------
    def _scalar(self, what):
        if self.data.size != 1:
            raise TypeError(f"{what}: only a tensor with one element can be converted to a "
                            f"Python number, got shape {self.shape}")
        return self.data.item()

    def __float__(self):
        return float(self._scalar("float()"))

    def __int__(self):
        return int(self._scalar("int()"))

    def __complex__(self):
        return complex(self._scalar("complex()"))

    def __index__(self):
        if self.data.dtype.kind not in "iub":
            raise TypeError(f"only integer tensors with one element can be used as an index, "
                            f"got dtype {self.data.dtype}")
        return int(self._scalar("__index__"))

    def __bool__(self):
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor with {self.data.size} elements "
                             f"(shape {self.shape}) is ambiguous; use .any() or .all()")
        return bool(self.data.item())

    def __format__(self, spec):
        """``f"{loss:.4f}"`` formats a one-element tensor as its number; no spec gives str()."""
        if self.data.size == 1 and (spec or self.data.ndim == 0):
            return format(self.data.item(), spec)
        if spec:
            raise TypeError(f"format spec {spec!r} needs a tensor with one element, got shape "
                            f"{self.shape}; format x.item() or np.array2string(x.data)")
        return str(self)

    def __round__(self, ndigits=None):
        """``round(loss, 3)``: a Python number for a one-element tensor (like ``float``)."""
        return round(self._scalar("round()"), ndigits)

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

    # --- copying and pickling: the data and flags, never the graph --------------------------
    def __reduce_ex__(self, protocol):
        return (_rebuild, (type(self), self.data, self._requires_grad, self.name))

    def __copy__(self):
        """A shallow copy shares the data, as ``copy.copy`` of an ndarray holder would."""
        return _rebuild(type(self), self.data, self._requires_grad, self.name)

    def __deepcopy__(self, memo):
        copied = _rebuild(type(self), self.data.copy(), self._requires_grad, self.name)
        if self.grad is not None and self._op is None:
            copied.grad = Tensor._constant(self.grad.data.copy())
        memo[id(self)] = copied
        return copied

    # --- comparisons: values only, never differentiable -----------------------------------
    def __lt__(self, other):
        return Tensor._constant(self.data < unwrap(other))

    def __le__(self, other):
        return Tensor._constant(self.data <= unwrap(other))

    def __gt__(self, other):
        return Tensor._constant(self.data > unwrap(other))

    def __ge__(self, other):
        return Tensor._constant(self.data >= unwrap(other))

    def __eq__(self, other):
        return Tensor._constant(self.data == unwrap(other))

    def __ne__(self, other):
        return Tensor._constant(self.data != unwrap(other))


def unwrap(x):
    """The array behind a Tensor; anything else unchanged (the engine's one way to unwrap)."""
    return x.data if isinstance(x, Tensor) else x


def _axis(axis, dim):
    if dim is not None and axis is not None:
        raise TypeError("got both axis= and dim=; pass one of them")
    return axis if dim is None else dim


def _rebuild(cls, data, requires_grad, name):
    """A fresh leaf of class ``cls`` (pickling and copying drop the graph, as PyTorch does)."""
    tensor = object.__new__(cls)
    Tensor.__init__(tensor, data, name=name)
    tensor._requires_grad = bool(requires_grad) and is_floating(tensor.data.dtype)
    return tensor
