"""Finite-difference checks of first and second derivatives."""
import numpy as np

from ..backward import run_backward
from ..tensor import Tensor


class GradcheckError(AssertionError):
    """Autodiff and finite differences disagree; the message says where and by how much."""


def _is_differentiable_input(value):
    array = value.data if isinstance(value, Tensor) else value
    return isinstance(array, np.ndarray) and array.dtype.kind == "f"


def _as_float64_arrays(inputs):
    arrays = []
    for value in inputs:
        if _is_differentiable_input(value):
            array = value.data if isinstance(value, Tensor) else value
            if array.dtype != np.float64:
                raise TypeError(f"gradcheck: floating inputs must be float64 for a meaningful "
                                f"finite-difference check, got {array.dtype}")
            arrays.append(np.array(array, copy=True))
        else:
            arrays.append(value)
    return arrays


def _call(f, arrays, requires_grad=True):
    # Tensors require grad even for finite differences: f may itself differentiate
    # (gradgradcheck checks a function that calls backward inside).
    requires_grad = True
    tensors = [Tensor(a, requires_grad=requires_grad) if _is_differentiable_input(a) else a
               for a in arrays]
    return f(*tensors), tensors


def _scalarise(out, cotangent):
    data = out.data if isinstance(out, Tensor) else np.asarray(out)
    if cotangent is None:
        return float(np.sum(data)), np.ones_like(data)
    return float(np.sum(data * cotangent)), cotangent


def numerical_grad(f, *inputs, eps=1e-6, cotangent=None):
    """Central-difference gradient of ``sum(f(*inputs) * cotangent)`` w.r.t. each float input.

    ``cotangent`` defaults to ones (so a scalar ``f`` gets its plain gradient). Returns a
    list with one array per input (``None`` for non-float inputs).
    """
    arrays = _as_float64_arrays(inputs)
    grads = []
    for index, array in enumerate(arrays):
        if not _is_differentiable_input(array):
            grads.append(None)
            continue
        grad = np.zeros_like(array)
        flat, flat_grad = array.reshape(-1), grad.reshape(-1)
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + eps
            plus = _scalarise(_call(f, arrays, requires_grad=False)[0], cotangent)[0]
            flat[i] = original - eps
            minus = _scalarise(_call(f, arrays, requires_grad=False)[0], cotangent)[0]
            flat[i] = original
            flat_grad[i] = (plus - minus) / (2 * eps)
        grads.append(grad)
    return grads


def _analytic_grads(f, arrays, cotangent, create_graph=False):
    out, tensors = _call(f, arrays)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: the function must return a Tensor, got {type(out).__name__}")
    _, cotangent = _scalarise(out, cotangent)
    differentiable = [t for t in tensors if isinstance(t, Tensor)]
    if not out.requires_grad:
        grads = [None] * len(differentiable)
    else:
        grads = run_backward((out,), (cotangent,), retain_graph=create_graph,
                             create_graph=create_graph, inputs=differentiable)
    by_position, it = [], iter(grads)
    for t in tensors:
        by_position.append(next(it) if isinstance(t, Tensor) else None)
    return by_position, tensors, out


def gradcheck(f, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, cotangent=None, seed=0):
    """Check autodiff gradients of ``f`` against central differences.

    ``f`` takes the inputs (float64 arrays/Tensors are wrapped as Tensors requiring
    grad; other arguments pass unchanged) and returns a Tensor of any shape. A
    non-scalar output is reduced with a fixed random ``cotangent`` (seeded), which
    checks the vector-Jacobian product that backward actually uses.

    Returns True, or raises GradcheckError naming the input, the worst index and both
    values.
    """
    arrays = _as_float64_arrays(inputs)
    probe, _ = _call(f, arrays, requires_grad=False)
    if cotangent is None:
        shape = np.shape(probe.data if isinstance(probe, Tensor) else probe)
        cotangent = np.random.default_rng(seed).standard_normal(shape)
    analytic, _, _ = _analytic_grads(f, arrays, cotangent)
    numeric = numerical_grad(f, *arrays, eps=eps, cotangent=cotangent)
    for index, (a, n) in enumerate(zip(analytic, numeric)):
        if n is None:
            continue
        a = np.zeros_like(n) if a is None else np.asarray(a.data if isinstance(a, Tensor) else a)
        _compare(f"input {index}", a, n, atol, rtol)
    return True


def _compare(what, analytic, numeric, atol, rtol):
    if analytic.shape != numeric.shape:
        raise GradcheckError(f"gradcheck: gradient of {what} has shape {analytic.shape}, "
                             f"expected {numeric.shape}")
    error = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    bad = ~(error <= 0)  # also catches NaN
    if np.any(bad):
        worst = np.unravel_index(np.nanargmax(np.where(np.isnan(error), np.inf, error)),
                                 error.shape) if error.size else ()
        raise GradcheckError(
            f"gradcheck: gradient of {what} (shape {numeric.shape}) disagrees with finite "
            f"differences at {int(bad.sum())} of {bad.size} entries; worst at index "
            f"{tuple(int(i) for i in worst)}: analytic {analytic[worst]!r}, numerical "
            f"{numeric[worst]!r} (atol={atol}, rtol={rtol})")


def gradgradcheck(f, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check second derivatives of ``f``: gradcheck of its (create_graph) gradient.

    The gradient of ``sum(f * v)`` is contracted with fixed random vectors ``u`` so that
    the function checked is scalar: ``h(x) = sum_i <grad_i(x), u_i>``.
    """
    arrays = _as_float64_arrays(inputs)
    rng = np.random.default_rng(seed)
    probe, _ = _call(f, arrays, requires_grad=False)
    cotangent = rng.standard_normal(np.shape(probe.data if isinstance(probe, Tensor) else probe))
    directions = [rng.standard_normal(a.shape) if _is_differentiable_input(a) else None
                  for a in arrays]

    def first_derivative_projection(*tensors):
        out = f(*tensors)
        differentiable = [t for t in tensors if isinstance(t, Tensor)]
        if not isinstance(out, Tensor) or not out.requires_grad:
            return Tensor(np.zeros(()))
        grads = run_backward((out,), (cotangent,), retain_graph=True, create_graph=True,
                             inputs=differentiable)
        total, it = None, iter(grads)
        for t, u in zip(tensors, directions):
            if not isinstance(t, Tensor):
                continue
            g = next(it)
            if g is None:
                continue
            term = (g * u).sum()
            total = term if total is None else total + term
        return Tensor(np.zeros(())) if total is None else total

    return gradcheck(first_derivative_projection, *arrays, eps=eps, atol=atol, rtol=rtol,
                     cotangent=np.ones(()))
