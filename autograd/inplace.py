"""In-place updates of Tensors, kept safe by version counters (``autograd.versions``).

Every in-place change bumps the tensor's version counter, shared with its views. An op
whose VJP reads a value that changed after the op was recorded would compute a wrong
gradient, so backward raises a RuntimeError naming the op instead (``check_versions``,
called by backward only when the clock moved since the op was recorded).

The rules are PyTorch's, adapted to a graph whose nodes are the tensors themselves:

- Under ``no_grad`` anything may be changed in place (optimizer steps, initialisation).
- With grad mode on, a tensor that requires grad cannot be changed in place. For a leaf
  that would change the point the gradient is taken at; for a recorded result, earlier
  uses in the graph hold this very object, so rewriting it would reroute their
  gradients. The augmented operators (``+=`` ...) then fall back to the out-of-place op
  and rebind the name, which is always safe; the methods (``add_`` ...) raise.
- A value that requires grad cannot be written into a tensor in place with grad mode on
  (its graph would be dropped); use the out-of-place op instead.

Writes straight into ``tensor.data`` (the ndarray) are not seen, as in PyTorch.
"""
import numpy as np

from . import versions
from .grad_mode import state
from .ops.index import InvalidIndexError, normalize_index
from .tensor import Tensor, unwrap

READ_ONLY_MESSAGE = (
    "{what}: this tensor's data is a read-only array (a broadcast view, or a gradient "
    "passed to a hook); change a copy instead (autograd.tensor(t) copies), or return a new "
    "tensor from the hook")


def check_allowed(tensor, what, value=None):
    """Raise RuntimeError if ``what`` may not change ``tensor`` in place right now."""
    if not state.flags.enabled:
        return
    if tensor._requires_grad:
        if tensor._op is None:
            raise RuntimeError(
                f"{what}: a leaf tensor that requires grad cannot be modified in place while "
                f"grad mode is on; do the update under `with autograd.no_grad():` (as "
                f"optimizers do) or on a copy")
        raise RuntimeError(
            f"{what}: cannot modify in place the result of the recorded op "
            f"'{tensor._op.name}' while grad mode is on: earlier uses of it in the graph would "
            f"get wrong gradients. Use the out-of-place form (y = y + x, autograd.where for "
            f"masked writes)")
    if isinstance(value, Tensor) and value._requires_grad:
        raise RuntimeError(
            f"{what}: the value requires grad but the tensor being modified does not, so an "
            f"in-place write would drop the value's graph; use the out-of-place form "
            f"(y = y + x, autograd.where, autograd.concatenate)")


def bump_version(tensor, what):
    """Record that ``tensor`` (and every view of its data) was changed in place by ``what``."""
    versions.bump(tensor, what)


def bump_versions(tensors, what):
    """``bump_version`` for each of ``tensors`` in one call (an optimizer's whole group)."""
    versions.bump_all(tensors, what)


def write(tensor, what, value, store):
    """Check, run ``store(array, value)`` on the tensor's own array, and bump its version.

    The one place that turns NumPy's failures of an in-place store into errors that name
    ``what``: a dtype that cannot be stored (same_kind casting, so float32 stays float32),
    a read-only array, a shape that does not fit.
    """
    check_allowed(tensor, what, value)
    data, value = tensor.data, unwrap(value)
    try:
        store(data, value)
    except IndexError as err:
        raise InvalidIndexError(f"{what}: index does not fit a tensor of shape "
                                f"{data.shape}: {err}") from None
    except TypeError:
        raise TypeError(f"{what}: cannot store the {_produced_dtype(store, data, value)} "
                        f"result in this {data.dtype} tensor in place") from None
    except ValueError:
        if not data.flags.writeable:
            raise ValueError(READ_ONLY_MESSAGE.format(what=what)) from None
        raise ValueError(f"{what}: a value of shape {np.shape(value)} does not broadcast to "
                         f"the tensor's shape {data.shape} (or the part selected); an "
                         f"in-place update keeps the shape") from None
    bump_version(tensor, what)
    return tensor


def _ufunc_store(ufunc):
    def store(data, value):
        ufunc(data, value, out=data, casting="same_kind")
    store.ufunc = ufunc
    return store


def _produced_dtype(store, data, value):
    """The dtype a failed in-place store would have produced (for its error message)."""
    ufunc = getattr(store, "ufunc", None)
    if ufunc is None:
        return np.result_type(value)
    return ufunc(np.ones(1, data.dtype), np.ones(1, np.result_type(value))).dtype


_ADD, _SUBTRACT = _ufunc_store(np.add), _ufunc_store(np.subtract)
_MULTIPLY, _DIVIDE = _ufunc_store(np.multiply), _ufunc_store(np.true_divide)


def add_(self, other, alpha=1):
    """``self += alpha * other`` in place; returns self."""
    return write(self, "add_", other if alpha == 1 else unwrap(other) * alpha, _ADD)


def sub_(self, other, alpha=1):
    """``self -= alpha * other`` in place; returns self."""
    return write(self, "sub_", other if alpha == 1 else unwrap(other) * alpha, _SUBTRACT)


def mul_(self, other):
    """``self *= other`` in place; returns self."""
    return write(self, "mul_", other, _MULTIPLY)


def div_(self, other):
    """``self /= other`` in place; returns self."""
    return write(self, "div_", other, _DIVIDE)


def _copy_store(data, value):
    np.copyto(data, value, casting="same_kind")


def fill_(self, value):
    """Set every element to the scalar ``value`` in place; returns self."""
    if np.ndim(unwrap(value)) != 0:
        raise ValueError(f"fill_: expected a scalar value, got shape {np.shape(unwrap(value))}; "
                         f"use copy_ to write an array")
    return write(self, "fill_", value, _copy_store)


def zero_(self):
    """Set every element to 0 in place; returns self."""
    return write(self, "zero_", 0, _copy_store)


def copy_(self, source):
    """Write ``source`` (broadcast to this tensor's shape) into it in place; returns self."""
    return write(self, "copy_", source, _copy_store)


def setitem(self, index, value):
    """``self[index] = value`` in place, with NumPy's indexing (and assignment) rules."""
    index = normalize_index(index, "setitem")

    def store(data, value):
        data[index] = value
    write(self, "setitem", value, store)


def check_versions(node):
    """Raise if an input or the output of ``node`` changed in place after recording.

    Runs only when the mutation clock moved since the op was recorded; a tensor never
    changed in place has no counter, which settles most inputs at once.
    """
    op = node._op
    if not op.vjp_uses_values:
        return
    since = op.recorded_at
    if versions.changed_since(node, since):
        raise _modified_error(op, "output", node)
    for position, value in enumerate(node._inputs):
        if isinstance(value, Tensor) and versions.changed_since(value, since):
            raise _modified_error(op, f"input {position}", value)


def _modified_error(op, role, tensor):
    created = getattr(op, "created_at", None)
    counter = tensor._counter
    return RuntimeError(
        f"backward: the {role} of op '{op.name}' (shape {tensor.shape}) was modified in place "
        f"by {counter.by} after the op was recorded (it is now at version "
        f"{counter.version}), but the gradient of '{op.name}' needs its old value. Change a "
        f"copy instead (autograd.tensor(x) copies), or make the change after backward()."
        + (f" The op was created at {created}." if created else ""))


def _augmented(name, method, out_of_place):
    """``x op= y``: in place when no graph is involved, otherwise the out-of-place op."""
    def operator(self, other):
        if state.flags.enabled and (self._requires_grad
                              or (isinstance(other, Tensor) and other._requires_grad)):
            if self._requires_grad and self._op is None:
                check_allowed(self, f"{name} (augmented assignment)")
            return out_of_place(self, other)
        return method(self, other)
    operator.__name__ = name
    operator.__doc__ = ("In place when no gradient is tracked; otherwise the out-of-place "
                        "op, so the name is rebound to a new graph node.")
    return operator


Tensor.add_, Tensor.sub_, Tensor.mul_, Tensor.div_ = add_, sub_, mul_, div_
Tensor.fill_, Tensor.zero_, Tensor.copy_ = fill_, zero_, copy_
Tensor.__setitem__ = setitem
Tensor.__iadd__ = _augmented("__iadd__", add_, lambda x, y: x + y)
Tensor.__isub__ = _augmented("__isub__", sub_, lambda x, y: x - y)
Tensor.__imul__ = _augmented("__imul__", mul_, lambda x, y: x * y)
Tensor.__itruediv__ = _augmented("__itruediv__", div_, lambda x, y: x / y)
