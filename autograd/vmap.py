"""``vmap``: run a function written for one example on a whole batch at once.

Inside ``vmap(f)`` each mapped argument is a ``BatchedTensor``: it shows ``f`` the shape of
ONE element (``x.shape`` has no batch axis) while it holds the whole batch, batch on
axis 0, in ``batched_value``. Every op on it is handed to its ``BatchLevel`` (see
``autograd.transform_levels``), which runs the op's batching rule
(``autograd.batching``) once on the whole batch, with no Python loop over elements. The
lower value may itself be a ``BatchedTensor`` of an enclosing ``vmap`` (nesting), or a
tensor with a tangent of an enclosing ``jvp``.

Reverse mode inside ``vmap`` (``vmap(grad(f))``, per-example gradients): ``grad`` gives
each argument its own copy per batch element (a broadcast view, so unbatched parameters
get per-example gradients too) and runs the backward pass once on the whole batch,
underneath the wrappers; the elements of a batch never interact, so the gradient of
the sum of the per-element outputs is the batch of per-element gradients.

``BatchedTensor.data`` is the whole batch (batch axes leading): code that reads raw data
inside ``vmap`` sees the batch. Converting a BatchedTensor to a Python number or an
ndarray raises ``PerElementValueError`` (a TypeError: its value differs per element).

Reverse mode inside a ``jvp`` inside ``vmap`` (``vmap(hvp)``, ``hessian`` = ``jacfwd(jacrev)``
with both Jacobians mapped over their basis): that ``jvp`` keeps its tangents with the
BatchedTensors it sees, but the backward pass runs on the plain tensors underneath. A
``BatchedForwardLevel`` therefore also files each tangent under the tensor's bottom (in
the bottom's layout, made when first asked for), so the backward's ops carry tangents,
and ``rewrap_with_tangents`` files the gradients' tangents back under their wrappers.
"""
import functools

import numpy as np

from .batching import batch_elementwise, batch_loop, materialized
from .dtypes import as_array
from .forward_mode import ForwardLevel
from .grad_mode import state
from .op import Op, apply, functions
from .tensor import Tensor
from .transform_levels import Level, lowered_to, pushed


class BatchLevel(Level):
    """One active ``vmap``: the batch size, and the rule dispatch for its tensors."""

    def __init__(self, size):
        self.size = size

    def owns(self, value):
        return isinstance(value, BatchedTensor) and value.level is self

    def process(self, op_cls, inputs, params):
        batched = tuple(self.owns(value) for value in inputs)
        values = tuple(value.batched_value if own else value
                       for value, own in zip(inputs, batched))
        rule = getattr(op_cls, "batch_rule", None)
        if rule is None:
            rule = batch_loop
        out = rule(op_cls, values, batched, params, self.size)
        if not isinstance(out, Tensor):
            out = Tensor._constant(np.asarray(out))
        return BatchedTensor.wrap(out, self)


class PerElementValueError(TypeError):
    """A batched value was asked for one Python number, bool or array inside ``vmap``."""


class BatchedTensor(Tensor):
    """A per-element view of a batch inside ``vmap`` (see the module doc)."""

    __slots__ = ("batched_value", "level")

    @classmethod
    def wrap(cls, value, level):
        node = object.__new__(cls)
        node.batched_value = value
        node.level = level
        node.data = value.data
        node._requires_grad = value._requires_grad
        node.grad = None
        node._op = None
        node._inputs = ()
        node._counter = None
        node._hooks = None
        node._retains_grad = False
        node.name = None
        return node

    @property
    def shape(self):
        return tuple(self.batched_value.shape[1:])

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=int))

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        return (f"BatchedTensor(shape={self.shape}, batch size={self.level.size}, "
                f"dtype={self.dtype})")

    def detach(self):
        return BatchedTensor.wrap(self.batched_value.detach(), self.level)

    def backward(self, *args, **kwargs):
        raise RuntimeError("backward() inside vmap: use autograd.functional.grad (or vjp), "
                           "which vmap maps over the batch")

    def _per_element(self, *args, **kwargs):
        raise PerElementValueError("vmap: a batched tensor has one value per batch element, so it "
                        "cannot become a Python number, a bool or an ndarray inside the "
                        "mapped function (data-dependent control flow is not supported)")

    item = __float__ = __int__ = __index__ = __bool__ = __array__ = numpy = tolist = _per_element
    __format__ = __round__ = _per_element

    def __setitem__(self, index, value):
        raise TypeError("vmap: in-place assignment to a batched tensor is not supported; "
                        "build a new tensor (e.g. with where or concatenate)")

    def __iadd__(self, other):
        return self + other

    def __isub__(self, other):
        return self - other

    def __imul__(self, other):
        return self * other

    def __itruediv__(self, other):
        return self / other

    # comparisons give batched boolean tensors
    def __lt__(self, other):
        return _compare(np.less, self, other)

    def __le__(self, other):
        return _compare(np.less_equal, self, other)

    def __gt__(self, other):
        return _compare(np.greater, self, other)

    def __ge__(self, other):
        return _compare(np.greater_equal, self, other)

    def __eq__(self, other):
        return _compare(np.equal, self, other)

    def __ne__(self, other):
        return _compare(np.not_equal, self, other)

    __hash__ = Tensor.__hash__


class _Compare(Op):
    """An elementwise comparison (no gradient), as an op so that it batches."""

    name = "compare"
    differentiable = False
    batch_rule = batch_elementwise

    def forward(self, x, y, *, ufunc):
        return ufunc(x, y)


def _compare(ufunc, x, y):
    return apply(_Compare, (x, y), {"ufunc": ufunc})


class _BroadcastAgainst(Op):
    """x broadcast to the shape of x + like (a view; ``like`` gives only its shape)."""

    name = "broadcast_against"
    vjp_uses_values = False
    batch_rule = batch_elementwise

    def forward(self, x, like):
        x = np.asarray(x)
        return np.broadcast_to(x, np.broadcast_shapes(x.shape, np.shape(like)))

    def vjp(self, g, out, x, like):
        return g, None

    def jvp(self, tangents, out, x, like):
        return None if tangents[0] is None else apply(_BroadcastAgainst, (tangents[0], like))


def batch_levels():
    return [level for level in state.flags.transforms if isinstance(level, BatchLevel)]


def levels_of(value):
    """The vmap levels ``value`` is batched at, innermost first."""
    found = []
    while isinstance(value, BatchedTensor):
        found.append(value.level)
        value = value.batched_value
    return found


def bottom_of(value):
    """The plain tensor under every BatchedTensor wrapper (batch axes leading)."""
    while isinstance(value, BatchedTensor):
        value = value.batched_value
    return value


def rewrap_like(bottom, like):
    """``bottom`` (batch axes leading, as under ``like``) wrapped as ``like`` is."""
    for level in reversed(levels_of(like)):
        bottom = BatchedTensor.wrap(bottom, level)
    return bottom


def batched_everywhere(value, dtype=None):
    """``value`` batched at every active vmap level (a broadcast view where it was not)."""
    levels = batch_levels()
    if not levels or set(levels_of(value)) == set(levels):
        return value
    zeros = Tensor._constant(np.zeros(tuple(level.size for level in levels),
                                      dtype=dtype or np.float64))
    for level in levels:
        zeros = BatchedTensor.wrap(zeros, level)
    return apply(_BroadcastAgainst, (value, zeros))


class BatchedForwardLevel(ForwardLevel):
    """The tangents of a ``jvp`` running inside ``vmap`` (see the module doc): each one is
    also filed under the plain tensor beneath its BatchedTensor, for backward passes that
    run there."""

    def set_tangent(self, tensor, tangent):
        super().set_tangent(tensor, tangent)
        if isinstance(tensor, BatchedTensor):
            super().set_tangent(bottom_of(tensor), _BottomTangent(tangent, levels_of(tensor)))

    def tangent_of(self, value):
        tangent = super().tangent_of(value)
        if isinstance(tangent, _BottomTangent):
            tangent = tangent.in_bottom_layout()
            ForwardLevel.set_tangent(self, value, tangent)
        return tangent


class _BottomTangent:
    """A tangent of a BatchedTensor, to be laid out as its bottom is (batch axes of
    ``levels`` leading, a broadcast view where the tangent lacks one); made only when a
    backward pass asks, while the levels outside the jvp are active."""

    __slots__ = ("tangent", "levels")

    def __init__(self, tangent, levels):
        self.tangent, self.levels = tangent, levels

    def in_bottom_layout(self):
        tangent = self.tangent
        if levels_of(tangent) != self.levels:
            zeros = Tensor._constant(np.zeros(tuple(level.size for level in reversed(self.levels))))
            for level in reversed(self.levels):
                zeros = BatchedTensor.wrap(zeros, level)
            tangent = apply(_BroadcastAgainst, (tangent, zeros))
        return bottom_of(tangent)


def rewrap_with_tangents(bottom, like):
    """``rewrap_like(bottom, like)``, and for each jvp running inside vmap that has a tangent
    for ``bottom`` (a gradient from a backward pass underneath the wrappers), that tangent
    filed under the wrapper the jvp sees: ``bottom`` wrapped by the vmaps outside it."""
    stack = state.flags.transforms
    depth_of = {id(level): depth for depth, level in enumerate(stack)}
    outermost_first = list(reversed(levels_of(like)))
    wrappers = [bottom]
    for level in outermost_first:
        wrappers.append(BatchedTensor.wrap(wrappers[-1], level))
    for depth, level in enumerate(stack):
        if not isinstance(level, BatchedForwardLevel) or not level.owns(bottom):
            continue
        with lowered_to(depth):
            tangent = level.tangent_of(bottom)
        outside = [outer for outer in outermost_first if depth_of.get(id(outer), -1) < depth]
        for outer in outside:
            tangent = BatchedTensor.wrap(tangent, outer)
        level.set_tangent(wrappers[len(outside)], tangent)
    return wrappers[-1]


def vmap(f, in_axes=0, out_axes=0):
    """Transform ``f`` into a function mapped over a batch axis, without a Python loop.

    ``vmap(f)(xs)`` equals stacking ``f(x)`` for each slice ``x`` of ``xs`` along axis 0,
    computed by running each op of ``f`` once on the whole batch (its batching rule).

    Args:
        f: a function of Tensors/arrays returning a Tensor or a tuple/list of them;
            keyword arguments are passed to every element unchanged.
        in_axes: the batch axis of every argument (an int, or None to pass it to every
            element unchanged), or a tuple with one such entry per positional argument.
            An argument that is a tuple/list/dict of arrays is mapped leaf by leaf.
        out_axes: where the batch axis goes in each output (an int, or one per output).

    Composes with the other transforms: nest ``vmap`` for several batch axes, ``vmap(grad(
    loss), in_axes=(None, 0, 0))(params, xs, ys)`` gives per-example gradients in one
    pass, ``vmap(jvp(...))`` and ``jvp(vmap(...))`` push batched tangents. An op without
    a batching rule runs once per element, with a warning naming it.

    Raises:
        TypeError: ``in_axes``/``out_axes`` entries that are not ints or None.
        ValueError: ``in_axes`` not matching the arguments, an axis out of range for its
            argument, batch axes of different sizes, or no argument mapped.
    """
    name = getattr(f, "__name__", "function")

    @functools.wraps(f)
    def mapped(*args, **kwargs):
        axes = _in_axes(in_axes, len(args), name)
        size = _batch_size(args, axes, name)
        level = BatchLevel(size)
        wrapped = [_map_leaves(arg, lambda leaf, role, axis=axis: _batch_argument(
            leaf, axis, level, role)) if axis is not None else arg
                   for arg, axis in zip(args, axes)]
        with pushed(level):
            result = f(*wrapped, **kwargs)
        return _unbatch(result, level, out_axes, name)
    return mapped


def _in_axes(in_axes, count, name):
    if isinstance(in_axes, (tuple, list)):
        if len(in_axes) != count:
            raise ValueError(f"vmap({name}): in_axes has {len(in_axes)} entries but the "
                             f"function was called with {count} positional argument(s); "
                             f"give one entry per argument (an int or None)")
        axes = tuple(in_axes)
    else:
        axes = (in_axes,) * count
    for position, axis in enumerate(axes):
        if axis is not None and (not isinstance(axis, (int, np.integer)) or isinstance(axis, bool)):
            raise TypeError(f"vmap({name}): in_axes entry for argument {position} must be an "
                            f"int or None, got {axis!r}")
    if count and all(axis is None for axis in axes):
        raise ValueError(f"vmap({name}): in_axes maps no argument (all None); at least one "
                         f"argument needs a batch axis")
    if not count:
        raise ValueError(f"vmap({name}): the mapped function was called without arguments; "
                         f"there is nothing to map over")
    return axes


def _leaves(value, role):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{role}[{key!r}]")
    elif isinstance(value, (tuple, list)):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{role}[{index}]")
    else:
        yield value, role


def _map_leaves(value, function, role="argument"):
    if isinstance(value, dict):
        return {key: _map_leaves(item, function, f"{role}[{key!r}]")
                for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(_map_leaves(item, function, f"{role}[{index}]")
                           for index, item in enumerate(value))
    return function(value, role)


def _batch_size(args, axes, name):
    found = []
    for position, (arg, axis) in enumerate(zip(args, axes)):
        if axis is None:
            continue
        for leaf, role in _leaves(arg, f"argument {position}"):
            shape = leaf.shape if isinstance(leaf, Tensor) else np.shape(leaf)
            if not -len(shape) <= axis < len(shape):
                raise ValueError(f"vmap({name}): in_axes {axis} is out of range for {role} of "
                                 f"shape {tuple(shape)} ({len(shape)} axes)")
            found.append((role, axis, shape[axis]))
    sizes = {size for _, _, size in found}
    if len(sizes) > 1:
        listed = ", ".join(f"{role} has size {size} along axis {axis}"
                           for role, axis, size in found)
        raise ValueError(f"vmap({name}): the batch axes have different sizes: {listed}")
    return found[0][2]


def _batch_argument(leaf, axis, level, role):
    if isinstance(leaf, Tensor):
        ndim = leaf.ndim
        moved = leaf if axis % ndim == 0 else functions("transpose")[0](
            leaf, _moved_order(axis % ndim, ndim))
    else:
        try:
            array = as_array(leaf)
        except TypeError as err:
            raise TypeError(f"vmap: {role} is a {type(leaf).__name__}, not a Tensor or "
                            f"array") from err
        moved = Tensor._constant(np.moveaxis(array, axis, 0))
    return BatchedTensor.wrap(moved, level)


def _moved_order(source, ndim):
    """The transpose order moving axis ``source`` to the front."""
    return (source,) + tuple(a for a in range(ndim) if a != source)


def _unbatch(result, level, out_axes, name):
    single = not isinstance(result, (tuple, list))
    outputs = (result,) if single else tuple(result)
    if isinstance(out_axes, (tuple, list)):
        if len(out_axes) != len(outputs):
            raise ValueError(f"vmap({name}): out_axes has {len(out_axes)} entries but the "
                             f"function returned {len(outputs)} output(s)")
        axes = tuple(out_axes)
    else:
        axes = (out_axes,) * len(outputs)
    unbatched = []
    for position, (out, axis) in enumerate(zip(outputs, axes)):
        if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
            raise TypeError(f"vmap({name}): out_axes entry for output {position} must be an "
                            f"int, got {axis!r}")
        if level.owns(out):
            value = out.batched_value
        else:
            if not isinstance(out, Tensor):
                try:
                    out = Tensor._constant(as_array(out))
                except TypeError:
                    raise TypeError(f"vmap({name}): the function must return Tensors or "
                                    f"arrays; output {position} is a "
                                    f"{type(out).__name__}") from None
            value = materialized(out, level.size)  # does not depend on the batch
        ndim = value.ndim
        if not -ndim <= axis < ndim:
            raise ValueError(f"vmap({name}): out_axes {axis} is out of range for output "
                             f"{position}, which has {ndim - 1} axes per element")
        axis = int(axis) % ndim
        if axis:
            order = tuple(range(1, axis + 1)) + (0,) + tuple(range(axis + 1, ndim))
            value = functions("transpose")[0](value, order)
        unbatched.append(value)
    return unbatched[0] if single else type(result)(unbatched)

