"""Gradient clipping by total norm or by value, in place, as PyTorch's clip_grad_*_."""
import math

import numpy as np

from autograd import Tensor


def _with_grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [param for param in parameters if param.grad is not None]


def _vector_norm(array, norm_type):
    magnitudes = np.abs(array)
    if norm_type == math.inf:
        return float(magnitudes.max()) if magnitudes.size else 0.0
    if norm_type == -math.inf:
        return float(magnitudes.min()) if magnitudes.size else math.inf
    if norm_type == 0:
        return float(np.count_nonzero(magnitudes))
    if norm_type == 2:
        return math.sqrt(float(np.vdot(magnitudes, magnitudes)))
    return float(np.sum(magnitudes ** norm_type)) ** (1.0 / norm_type)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    The norm is taken over every gradient as if concatenated into one vector
    (``norm_type`` may be ``inf``). Gradients are multiplied in place by
    ``min(1, max_norm / (total_norm + 1e-6))``.

    Returns:
        The total norm before clipping, as a 0-d Tensor.

    Raises:
        RuntimeError: the norm is NaN or infinite and ``error_if_nonfinite`` is set.
        ValueError: a negative ``max_norm``.
    """
    max_norm, norm_type = float(max_norm), float(norm_type)
    if max_norm < 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be non-negative, got {max_norm}")
    params = _with_grads(parameters)
    if not params:
        return Tensor(np.array(0.0))
    dtype = params[0].grad.dtype
    norms = np.array([_vector_norm(param.grad.data, norm_type) for param in params])
    total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           f"gradients is {total}, so they cannot be clipped; pass "
                           f"error_if_nonfinite=False to clip anyway")
    scale = min(max_norm / (total + 1e-6), 1.0)
    for param in params:
        grad = param.grad.data
        if grad.flags.writeable:
            grad *= scale
        else:
            param.grad = Tensor(grad * scale)
    return Tensor(np.array(total, dtype=dtype))


def clip_grad_value_(parameters, clip_value):
    """Clip every gradient element to ``[-clip_value, clip_value]`` in place."""
    clip_value = float(clip_value)
    if clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be non-negative, got {clip_value}")
    for param in _with_grads(parameters):
        grad = param.grad.data
        if grad.flags.writeable:
            np.clip(grad, -clip_value, clip_value, out=grad)
        else:
            param.grad = Tensor(np.clip(grad, -clip_value, clip_value))
