"""Tensor hooks: functions that see, and may replace, a tensor's gradient in backward.

A hook is called as ``hook(grad)`` with the gradient of the tensor it is registered on
(the total over all its uses, before it is stored in ``.grad`` or passed on). Returning
None keeps the gradient; returning a tensor or array of the same shape replaces it.
On a plain backward the gradient a hook receives is a read-only constant Tensor (engine
gradients may be shared between inputs); under ``create_graph=True`` it is the graph's
Tensor, so what the hook computes is differentiated too.
"""
import itertools
import weakref

import numpy as np

from .anomaly import check_hook_result
from .grad_mode import state
from .tensor import Tensor

_hook_ids = itertools.count()


class RemovableHandle:
    """What ``register_hook`` returns: ``remove()`` detaches the hook (twice is harmless).

    Also a context manager that removes the hook on exit.
    """

    __slots__ = ("_tensor", "id")

    def __init__(self, tensor, hook_id):
        self._tensor = weakref.ref(tensor)
        self.id = hook_id

    def remove(self):
        tensor = self._tensor()
        if tensor is not None and tensor._hooks:
            tensor._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()
        return False


def register_hook(tensor, hook):
    """Call ``hook(grad)`` with this tensor's gradient during backward; a returned tensor of
    the same shape replaces the gradient. Returns a handle whose ``remove()`` detaches the
    hook (see the module doc)."""
    if not callable(hook):
        raise TypeError(f"register_hook: expected a callable hook(grad), got "
                        f"{type(hook).__name__}")
    if not tensor._requires_grad:
        raise RuntimeError("register_hook: cannot register a hook on a tensor that does not "
                           "require grad (no gradient will ever be computed for it)")
    if tensor._hooks is None:
        tensor._hooks = {}
    hook_id = next(_hook_ids)
    tensor._hooks[hook_id] = hook
    return RemovableHandle(tensor, hook_id)


def run_hooks(tensor, grad):
    """Pass ``grad`` through the hooks of ``tensor`` in registration order."""
    in_graph = isinstance(grad, Tensor)
    for hook in list(tensor._hooks.values()):
        if in_graph:
            argument = grad
        else:
            argument = grad.view()
            argument.flags.writeable = False
            argument = Tensor._constant(argument)
        result = hook(argument)
        if result is not None:
            grad = _replacement(result, tensor, hook, in_graph)
    if state.flags.anomaly:
        check_hook_result(tensor, grad)
    return grad


def _replacement(result, tensor, hook, in_graph):
    """The gradient a hook returned, checked and in the engine's representation."""
    name = getattr(hook, "__qualname__", None) or repr(hook)
    data = result.data if isinstance(result, Tensor) else np.asarray(result)
    if data.shape != tensor.shape:
        raise ValueError(f"hook {name} returned a gradient of shape {data.shape}, but the "
                         f"tensor it is registered on has shape {tensor.shape}; a hook must "
                         f"return a gradient of that shape (or None to keep the gradient)")
    if data.dtype.kind != "f":
        raise TypeError(f"hook {name} returned a gradient of dtype {data.dtype}; expected a "
                        f"floating-point gradient for a {tensor.dtype} tensor")
    if not in_graph:
        return data if data.dtype == tensor.dtype else data.astype(tensor.dtype)
    if not isinstance(result, Tensor):
        return Tensor._constant(data.astype(tensor.dtype, copy=False))
    return result if data.dtype == tensor.dtype else result.astype(tensor.dtype)


Tensor.register_hook = register_hook
