"""Anomaly mode: find the op that produced the first NaN or Inf, forward or backward.

    with autograd.detect_anomaly():
        loss = model(x)          # each recorded op's output is checked for NaN/Inf
        loss.backward()          # each gradient an op's VJP returns is checked too

The error names the op, its input shapes and the line of user code that created it.
Only in anomaly mode does recording capture that line (walking the Python stack is
slow); in normal mode the engine pays one attribute read per op and per backward.
"""
import functools
import os
import sys
import textwrap
import traceback

import numpy as np

from . import op as op_module
from .grad_mode import state
from .tensor import Tensor

# The library's own packages: their frames are skipped when naming the user's line.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LIBRARY_DIRS = tuple(os.path.join(_ROOT, package) + os.sep for package in ("autograd", "nn", "viz"))
_STACK_DEPTH = 6


class AnomalyError(RuntimeError):
    """A NaN or Inf appeared in anomaly mode; the message says which op made it and where."""


class detect_anomaly:
    """Context manager and decorator that turns anomaly mode on (see module doc).

    Args:
        check_forward: check each recorded op's output (default True). Turn off for
            code that makes Inf on purpose (e.g. log(0) masks) but still wants the
            backward check.
    """

    def __init__(self, check_forward=True):
        self.check_forward = check_forward

    def __enter__(self):
        self._previous = (state.flags.anomaly, _hooks.check_forward)
        op_module._anomaly_hooks = _hooks
        state.flags.anomaly = True
        _hooks.check_forward = self.check_forward
        return self

    def __exit__(self, *exc_info):
        state.flags.anomaly, _hooks.check_forward = self._previous
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_forward):
                return func(*args, **kwargs)
        return wrapper


def set_detect_anomaly(mode):
    """Turn anomaly mode on or off for this thread (PyTorch's name)."""
    op_module._anomaly_hooks = _hooks
    state.flags.anomaly = bool(mode)


def is_anomaly_enabled():
    """True while anomaly mode is on in this thread."""
    return state.flags.anomaly


def _is_finite(value):
    data = value.data if isinstance(value, Tensor) else value
    if not isinstance(data, np.ndarray):
        data = np.asarray(data)
    return data.dtype.kind not in "fc" or bool(np.isfinite(data).all())


def _kind(value):
    data = value.data if isinstance(value, Tensor) else np.asarray(value)
    return "NaN" if np.isnan(data).any() else "Inf"


def _user_stack():
    """The calling frames outside the library (autograd, nn, viz), innermost last."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_LIBRARY_DIRS):
        frame = frame.f_back
    if frame is None:
        return traceback.StackSummary()
    stack = traceback.extract_stack(frame, limit=_STACK_DEPTH)
    return stack


def _where(stack):
    if not stack:
        return "an unknown place (no Python frame outside the library)"
    frame = stack[-1]
    line = f": {frame.line}" if frame.line else ""
    return f"{frame.filename}:{frame.lineno} in {frame.name}{line}"


def _op_label(op):
    """``op 'linear' in module '3'``: the op and, inside an nn.Module, the module's path."""
    scope = getattr(op, "scope", None)
    return f"op '{op.name}'" + (f" in module '{scope}'" if scope else "")


def _describe_inputs(inputs):
    parts = []
    for position, value in enumerate(inputs):
        data = value.data if isinstance(value, Tensor) else value
        if isinstance(data, np.ndarray):
            note = "" if _is_finite(data) else f", already contains {_kind(data)}"
            parts.append(f"input {position}: shape {data.shape} {data.dtype}{note}")
        else:
            parts.append(f"input {position}: {type(data).__name__} {data!r}")
    return "; ".join(parts) if parts else "no inputs"


def _creation(op):
    stack = getattr(op, "creation_stack", None)
    if stack is None:
        return ("  (created before anomaly mode was turned on, so its creation line is "
                "unknown; run the forward pass inside detect_anomaly() too)")
    return ("  created at " + _where(stack) + "\n  creation stack (most recent call last):\n"
            + textwrap.indent("".join(traceback.format_list(stack)), "    "))


class _AnomalyHooks:
    """Installed into autograd.op on first use; called by apply() only in anomaly mode."""

    check_forward = True

    def on_forward(self, op, out, inputs):
        stack = _user_stack()
        op.creation_stack = stack
        op.created_at = _where(stack)
        op.input_shapes = tuple(np.shape(value.data if isinstance(value, Tensor) else value)
                                for value in inputs)
        if self.check_forward and not _is_finite(out):
            raise AnomalyError(
                f"anomaly: {_op_label(op)} produced {_kind(out)} in its output (forward).\n"
                f"  {_describe_inputs(inputs)}\n" + _creation(op))


_hooks = _AnomalyHooks()


def check_seeds(outputs, grads):
    """The gradients passed to backward() must be finite."""
    for output in outputs:
        seed = grads.get(id(output))
        if seed is not None and not _is_finite(seed):
            raise AnomalyError(f"anomaly: the gradient passed to backward() for the output of "
                               f"shape {output.shape} contains {_kind(seed)}")


def check_backward(node, grad, input_grads):
    """Every gradient the VJP of ``node``'s op returned must be finite."""
    op = node._op
    for position, (value, needs, input_grad) in enumerate(
            zip(node._inputs, op.needs_grad, input_grads)):
        if needs and input_grad is not None and not _is_finite(input_grad):
            incoming = ("" if _is_finite(grad) else
                        f" (the gradient flowing into it already contained {_kind(grad)})")
            raise AnomalyError(
                f"anomaly: the backward of {_op_label(op)} produced {_kind(input_grad)} in the "
                f"gradient of its input {position}{incoming}.\n"
                f"  {_describe_inputs(node._inputs)}\n" + _creation(op))


def check_hook_result(tensor, grad):
    """A hook must not turn a gradient into NaN/Inf."""
    if not _is_finite(grad):
        raise AnomalyError(f"anomaly: a hook registered on a tensor of shape {tensor.shape} "
                           f"returned a gradient containing {_kind(grad)}")
