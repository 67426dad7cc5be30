"""Custom differentiable ops: subclass ``Function`` with a forward and a backward.

    class Cube(autograd.Function):
        @staticmethod
        def forward(ctx, x):                 # ndarrays in, one ndarray out
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):             # one gradient per forward argument
            (x,) = ctx.saved_tensors
            return grad * 3 * x ** 2

    y = Cube.apply(x)                        # records a graph node like any built-in op

A Function becomes an ordinary op of the engine (its name is the class name), so
gradcheck, hooks, anomaly mode, the in-place version check and graph drawing treat it
exactly like a built-in one.

Double backward: on a plain backward, ``backward`` receives ndarrays. Under
``create_graph=True`` (gradgradcheck, hessian, jvp) it receives Tensors instead: the
gradient, and ``ctx.saved_tensors`` where each saved array that is an input or the
output of forward comes back as that graph Tensor (other saved arrays as constants). A
backward written with operators and autograd functions (which NumPy calls on Tensors
dispatch to) is then differentiable again. Decorate a backward that only works on
ndarrays with ``@once_differentiable``: it then always gets ndarrays, and a second
derivative through it raises a clear error instead of coming out silently wrong.
"""
import functools

import numpy as np

from .grad_mode import state
from .op import Op, apply
from .tensor import Tensor


def once_differentiable(backward):
    """Mark a ``Function.backward`` as written for ndarrays only (see module doc)."""
    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        return backward(ctx, *grads)
    wrapper.once_differentiable = True
    return wrapper


class FunctionCtx:
    """What forward leaves for backward: saved arrays, flags, and any attribute you set.

    Attributes:
        needs_input_grad: one bool per forward argument: whether backward must return
            its gradient (others may be returned as None and are ignored).
    """

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self._saved = ()
        self._graph_values = None

    def save_for_backward(self, *values):
        """Keep arrays (inputs, the output or intermediates) for ``backward``."""
        self._saved = values

    @property
    def saved_tensors(self):
        """What ``save_for_backward`` kept: ndarrays, or Tensors under create_graph."""
        if self._graph_values is None:
            return self._saved
        by_array = {id(t.data): t for t in self._graph_values if isinstance(t, Tensor)}
        return tuple(by_array[id(value)] if id(value) in by_array else
                     Tensor._constant(value) if isinstance(value, np.ndarray) else value
                     for value in self._saved)


class _FunctionOp(Op):
    """The engine op behind a Function subclass (one such op class per subclass)."""

    function = None

    def forward(self, *arrays, needs_input_grad):
        self.ctx = FunctionCtx(needs_input_grad)
        out = self.function.forward(self.ctx, *arrays)
        if isinstance(out, (tuple, list)):
            raise TypeError(f"{self.name}.forward returned {len(out)} values; a Function has "
                            f"one output (stack several results into one array, or write one "
                            f"Function per output)")
        if isinstance(out, Tensor):
            out = out.data
        if not isinstance(out, (np.ndarray, np.generic, int, float)):
            raise TypeError(f"{self.name}.forward must return an ndarray, got "
                            f"{type(out).__name__}")
        return out

    def vjp(self, grad, out, *inputs):
        ctx, function = self.ctx, self.function
        in_graph = isinstance(grad, Tensor)
        once = getattr(function.backward, "once_differentiable", False)
        if in_graph and not once:
            ctx._graph_values = (out,) + inputs
            grads = function.backward(ctx, grad)
        else:
            grads = function.backward(ctx, grad.data if in_graph else grad)
        grads = self._checked(grads, inputs)
        if in_graph:
            sources = (grad, out) + inputs
            grads = [self._as_graph_value(g, sources, once) for g in grads]
        return grads

    def _checked(self, grads, inputs):
        """One gradient per input, as arrays or Tensors of a shape the engine can reduce."""
        if not isinstance(grads, (tuple, list)):
            grads = (grads,)
        if len(grads) != len(inputs):
            raise TypeError(f"{self.name}.backward returned {len(grads)} gradient(s), but "
                            f"forward took {len(inputs)} argument(s); return one per argument "
                            f"(None for those without a gradient)")
        checked = []
        for position, (g, value, needs) in enumerate(zip(grads, inputs, self.needs_grad)):
            if g is None or not needs:
                checked.append(None)
                continue
            if not isinstance(g, Tensor):
                g = np.asarray(g)
            shape = np.shape(value.data if isinstance(value, Tensor) else value)
            if g.shape != shape and not _reduces_to(g.shape, shape):
                raise ValueError(f"{self.name}.backward returned a gradient of shape {g.shape} "
                                 f"for argument {position}, which has shape {shape}")
            if g.dtype.kind != "f":
                g = g.astype(np.float64 if isinstance(g, np.ndarray) else g.dtype)
            checked.append(g)
        return checked

    def _as_graph_value(self, g, sources, once):
        if g is None or (isinstance(g, Tensor) and not once):
            return g
        data = g.data if isinstance(g, Tensor) else g
        if once:
            # Keep the result connected to everything it was computed from, so that a
            # second derivative reaches _NotTwiceDifferentiable and says why it stops.
            return apply(_NotTwiceDifferentiable, sources,
                         {"value": data, "function_name": self.name})
        return Tensor._constant(data)


def _reduces_to(grad_shape, input_shape):
    """True when ``input_shape`` broadcasts to ``grad_shape`` (the engine sums it back)."""
    try:
        return np.broadcast_shapes(grad_shape, input_shape) == tuple(grad_shape)
    except ValueError:
        return False


class _NotTwiceDifferentiable(Op):
    """Carries a once_differentiable backward's result; differentiating it again raises."""

    name = "once_differentiable"

    def forward(self, *sources, value, function_name):
        self.function_name = function_name
        return value

    def vjp(self, g, out, *sources):
        raise RuntimeError(f"{self.function_name}.backward is marked @once_differentiable, so "
                           f"its gradient cannot be differentiated again (create_graph / "
                           f"gradgradcheck / hessian through it); write backward with autograd "
                           f"ops on Tensors to make it twice differentiable")


class Function:
    """Base class of custom ops: define static ``forward(ctx, *args)`` and
    ``backward(ctx, *grads)``, call ``apply(*args)``. See the module doc."""

    _op_class = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._op_class = type(f"{cls.__name__}Op", (_FunctionOp,),
                             {"function": cls, "name": cls.__name__,
                              "__doc__": cls.__doc__})

    @staticmethod
    def forward(ctx, *args):
        """Compute the output from ndarrays (Tensors arrive as their data)."""
        raise NotImplementedError("a Function subclass must define a static forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grads):
        """Return the gradient of each forward argument, given the output's gradient."""
        raise NotImplementedError("a Function subclass must define a static "
                                  "backward(ctx, grad)")

    @classmethod
    def apply(cls, *args):
        """Run forward on ``args`` and record the op when a Tensor argument requires grad.

        With no Tensor among ``args`` the result is forward's plain ndarray.
        """
        if cls._op_class is None:
            raise TypeError("call apply on a subclass of Function, not on Function itself")
        enabled = state.flags.enabled
        needs = tuple(enabled and isinstance(value, Tensor) and value._requires_grad
                      for value in args)
        out = apply(cls._op_class, args, {"needs_input_grad": needs})
        if isinstance(out, Tensor) and out._op is not None and out.data.dtype.kind != "f":
            return Tensor._constant(out.data)
        return out
