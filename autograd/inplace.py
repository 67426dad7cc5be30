"""In-place updates of Tensors, and the version counter that keeps them safe.

Every in-place change bumps the tensor's ``_version`` and stamps it with the global
mutation clock (``autograd.op.mutation_clock``). An op recorded at clock t whose input or
output carries a later stamp would read changed values in its VJP, so backward raises a
RuntimeError naming the op instead of computing a wrong gradient (``check_versions``,
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

Known limits: views (``reshape``, ``detach``) share memory but not version counters,
and writes straight into ``tensor.data`` (the ndarray) are not seen.
"""
import numpy as np

from . import op as op_module
from .grad_mode import state
from .tensor import Tensor

READ_ONLY_MESSAGE = (
    "{what}: this tensor's data is a read-only array (a broadcast view, or a gradient "
    "passed to a hook); change a copy instead (autograd.tensor(t) copies), or return a new "
    "tensor from the hook")


def check_allowed(tensor, what, value=None):
    """Raise RuntimeError if ``what`` may not change ``tensor`` in place right now."""
    if not state.enabled:
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
    """Record that ``tensor`` was changed in place by ``what``."""
    op_module.mutation_clock += 1
    tensor._version += 1
    tensor._mutated_by = (op_module.mutation_clock, what)


def _data(value):
    return value.data if isinstance(value, Tensor) else value


def _update(tensor, ufunc, other, what):
    """``ufunc(tensor, other)`` written into the tensor's own array (NumPy's same_kind
    casting, so a float32 tensor stays float32)."""
    if state.enabled:
        check_allowed(tensor, what, other)
    data = tensor.data
    other = other.data if isinstance(other, Tensor) else other
    try:
        ufunc(data, other, out=data)
    except TypeError:
        raise TypeError(f"{what}: cannot store the {ufunc(data, other).dtype} result in "
                        f"this {data.dtype} tensor in place") from None
    except ValueError:
        if not data.flags.writeable:
            raise ValueError(READ_ONLY_MESSAGE.format(what=what)) from None
        raise ValueError(f"{what}: a value of shape {np.shape(other)} does not broadcast to "
                         f"the tensor's shape {data.shape}; an in-place update keeps the "
                         f"shape") from None
    bump_version(tensor, what)
    return tensor


def add_(self, other, alpha=1):
    """``self += alpha * other`` in place; returns self."""
    return _update(self, np.add, other if alpha == 1 else _data(other) * alpha, "add_")


def sub_(self, other, alpha=1):
    """``self -= alpha * other`` in place; returns self."""
    return _update(self, np.subtract, other if alpha == 1 else _data(other) * alpha, "sub_")


def mul_(self, other):
    """``self *= other`` in place; returns self."""
    return _update(self, np.multiply, other, "mul_")


def div_(self, other):
    """``self /= other`` in place; returns self."""
    return _update(self, np.true_divide, other, "div_")


def fill_(self, value):
    """Set every element to the scalar ``value`` in place; returns self."""
    value = _data(value)
    if np.ndim(value) != 0:
        raise ValueError(f"fill_: expected a scalar value, got shape {np.shape(value)}; "
                         f"use copy_ to write an array")
    return _copy(self, value, "fill_")


def zero_(self):
    """Set every element to 0 in place; returns self."""
    return _copy(self, 0, "zero_")


def copy_(self, source):
    """Write ``source`` (broadcast to this tensor's shape) into it in place; returns self."""
    return _copy(self, source, "copy_")


def _copy(self, source, what):
    if state.enabled:
        check_allowed(self, what, source)
    data, source = self.data, _data(source)
    try:
        np.copyto(data, source)
    except TypeError:
        raise TypeError(f"{what}: cannot store {np.result_type(source)} values in this "
                        f"{data.dtype} tensor in place") from None
    except ValueError:
        if not data.flags.writeable:
            raise ValueError(READ_ONLY_MESSAGE.format(what=what)) from None
        raise ValueError(f"{what}: a source of shape {np.shape(source)} does not broadcast "
                         f"to the tensor's shape {data.shape}") from None
    bump_version(self, what)
    return self


def setitem(self, index, value):
    """``self[index] = value`` in place, with NumPy's indexing (and assignment) rules."""
    from .ops.index import InvalidIndexError, normalize_index
    what = "setitem (x[index] = value)"
    if state.enabled:
        check_allowed(self, what, value)
    data, value = self.data, _data(value)
    index = normalize_index(index, "setitem")
    try:
        data[index] = value
    except IndexError as err:
        raise InvalidIndexError(f"setitem: index does not fit a tensor of shape "
                                f"{data.shape}: {err}") from None
    except TypeError:
        raise TypeError(f"setitem: cannot store {np.result_type(value)} values in this "
                        f"{data.dtype} tensor") from None
    except ValueError as err:
        if not data.flags.writeable:
            raise ValueError(READ_ONLY_MESSAGE.format(what=what)) from None
        raise ValueError(f"setitem: cannot assign a value of shape {np.shape(value)} to the "
                         f"selected part of a tensor of shape {data.shape}: {err}") from None
    bump_version(self, what)


def check_versions(node):
    """Raise if an input or the output of ``node`` changed in place after recording.

    Runs only when the mutation clock moved since the op was recorded; ``_version`` is 0
    for a tensor never changed in place, which settles most inputs at once.
    """
    op = node._op
    if not op.vjp_uses_values:
        return
    since = op.recorded_at
    if node._version and _changed_since(node, since):
        raise _modified_error(op, "output", node)
    for position, value in enumerate(node._inputs):
        if isinstance(value, Tensor) and value._version and _changed_since(value, since):
            raise _modified_error(op, f"input {position}", value)


def _changed_since(tensor, clock):
    # A version bumped by hand (without autograd.inplace.bump_version) has no stamp,
    # so when it happened is unknown; only stamped changes are judged.
    stamp = getattr(tensor, "_mutated_by", None)
    return stamp is not None and stamp[0] > clock


def _modified_error(op, role, tensor):
    created = getattr(op, "created_at", None)
    return RuntimeError(
        f"backward: the {role} of op '{op.name}' (shape {tensor.shape}) was modified in place "
        f"by {tensor._mutated_by[1]} after the op was recorded (it is now at version "
        f"{tensor._version}), but the gradient of '{op.name}' needs its old value. Change a "
        f"copy instead (autograd.tensor(x) copies), or make the change after backward()."
        + (f" The op was created at {created}." if created else ""))


def _augmented(name, method, out_of_place):
    """``x op= y``: in place when no graph is involved, otherwise the out-of-place op."""
    def operator(self, other):
        if state.enabled and (self._requires_grad
                              or (isinstance(other, Tensor) and other._requires_grad)):
            if self._requires_grad and self._op is None:
                check_allowed(self, f"{name} (augmented assignment)")
            return out_of_place(self, other)
        return method(self, other)
    operator.__name__ = name
    operator.__doc__ = ("In place when no gradient is tracked; otherwise the out-of-place "
                        "op, so the name is rebound to a new graph node.")
    return operator


def install():
    """Attach the in-place methods and augmented operators to Tensor."""
    for method in (add_, sub_, mul_, div_, fill_, zero_, copy_):
        setattr(Tensor, method.__name__, method)
    Tensor.__setitem__ = setitem
    Tensor.__iadd__ = _augmented("__iadd__", add_, lambda x, y: x + y)
    Tensor.__isub__ = _augmented("__isub__", sub_, lambda x, y: x - y)
    Tensor.__imul__ = _augmented("__imul__", mul_, lambda x, y: x * y)
    Tensor.__itruediv__ = _augmented("__itruediv__", div_, lambda x, y: x / y)
