"""Finite-difference checks of first and second derivatives.

Inputs to ``f`` may be float64 arrays or Tensors (each differentiated), lists or tuples
of them (for ops such as ``concatenate`` that take a sequence; each float entry is
differentiated), or anything else (integer indices, boolean masks, shapes), passed to
``f`` unchanged. ``f`` returns a Tensor, or a list/tuple of Tensors (for ops such as
``split``); a non-scalar output is contracted with a cotangent, which checks exactly
the vector-Jacobian product that backward computes.
"""
import numpy as np

from ..backward import run_backward
from ..tensor import Tensor


class GradcheckError(AssertionError):
    """Autodiff and finite differences disagree; the message says where and by how much."""


def _is_float_array(value):
    array = value.data if isinstance(value, Tensor) else value
    return isinstance(array, np.ndarray) and array.dtype.kind == "f"


def _is_sequence_input(value):
    return isinstance(value, (list, tuple)) and any(_is_float_array(item) for item in value)


def _float64_copy(value, label):
    array = value.data if isinstance(value, Tensor) else value
    if array.dtype != np.float64:
        raise TypeError(f"gradcheck: {label} must be float64 for a meaningful "
                        f"finite-difference check, got {array.dtype}")
    return np.array(array, dtype=np.float64, copy=True)


def _prepare(inputs):
    """Fresh float64 copies of the differentiable inputs, and where they sit.

    Returns ``(arguments, slots)``: ``arguments`` mirrors ``inputs`` with every float
    array replaced by its copy; ``slots`` lists ``(label, array)`` for each copy, in
    the order the arguments are read. The copies are perturbed in place for finite
    differences, so nothing the caller owns is touched.
    """
    arguments, slots = [], []
    for index, value in enumerate(inputs):
        if _is_float_array(value):
            array = _float64_copy(value, f"input {index}")
            slots.append((f"input {index}", array))
            arguments.append(array)
        elif _is_sequence_input(value):
            items = []
            for position, item in enumerate(value):
                if _is_float_array(item):
                    label = f"input {index}[{position}]"
                    item = _float64_copy(item, label)
                    slots.append((label, item))
                items.append(item)
            arguments.append(type(value)(items))
        else:
            arguments.append(value)
    return arguments, slots


def _wrap(value):
    if _is_float_array(value):
        return Tensor(value, requires_grad=True)
    if _is_sequence_input(value):
        return type(value)(_wrap(item) for item in value)
    return value


def _differentiable_leaves(arguments):
    """The float Tensors among ``arguments`` (also inside lists/tuples), in slot order."""
    leaves = []
    for value in arguments:
        items = value if isinstance(value, (list, tuple)) else (value,)
        leaves.extend(item for item in items
                      if isinstance(item, Tensor) and item.dtype.kind == "f")
    return leaves


def _outputs(result):
    """``f``'s result as a list of Tensors (it may return one Tensor or a sequence)."""
    items = list(result) if isinstance(result, (list, tuple)) else [result]
    for item in items:
        if not isinstance(item, Tensor):
            raise TypeError(f"gradcheck: the function must return a Tensor or a list/tuple "
                            f"of Tensors, got {type(item).__name__}")
    return items


def _call(f, arguments):
    """Run ``f`` on Tensors made from ``arguments``; return (outputs, leaf Tensors).

    The Tensors always require grad, even for finite differences, because ``f`` may
    differentiate internally (``gradgradcheck`` checks such a function).
    """
    tensors = [_wrap(value) for value in arguments]
    return _outputs(f(*tensors)), _differentiable_leaves(tensors)


def _cotangents(cotangent, outputs):
    """One cotangent array per output: ones when None, else as given (one per output)."""
    if cotangent is None:
        return [np.ones(out.shape) for out in outputs]
    given = list(cotangent) if isinstance(cotangent, (list, tuple)) else [cotangent]
    if len(given) != len(outputs):
        raise ValueError(f"gradcheck: got {len(given)} cotangents for {len(outputs)} outputs")
    cotangents = []
    for index, (out, cot) in enumerate(zip(outputs, given)):
        cot = np.asarray(cot, dtype=np.float64)
        if cot.shape != out.shape:
            raise ValueError(f"gradcheck: cotangent {index} has shape {cot.shape}, but output "
                             f"{index} has shape {out.shape}")
        cotangents.append(cot)
    return cotangents


def _backward(outputs, cotangents, leaves, create_graph=False):
    """Gradients of sum(output * cotangent) w.r.t. ``leaves`` (None where unreachable)."""
    pairs = [(out, cot) for out, cot in zip(outputs, cotangents) if out.requires_grad]
    if not pairs:
        return [None] * len(leaves)
    return run_backward(tuple(out for out, _ in pairs), tuple(cot for _, cot in pairs),
                        retain_graph=create_graph, create_graph=create_graph, inputs=leaves)


def _numerical(f, arguments, slots, cotangents, eps):
    """Central differences of sum(f * cotangent) for each slot array (perturbed in place).

    The outputs at x+eps and x-eps are subtracted elementwise before contracting with
    the cotangent: entries that the perturbation does not touch then cancel exactly,
    instead of adding rounding error of the whole sum to every derivative.
    """
    grads = []
    for _, array in slots:
        grad = np.zeros_like(array)
        # Views, since slot arrays are fresh contiguous copies: writing flat[i] perturbs f's input.
        flat, flat_grad = array.reshape(-1), grad.reshape(-1)
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + eps
            # Copies: an op such as reshape may return a view of the perturbed input.
            plus = [np.array(out.data, dtype=np.float64) for out in _call(f, arguments)[0]]
            step = flat[i]
            flat[i] = original - eps
            minus = [np.array(out.data, dtype=np.float64) for out in _call(f, arguments)[0]]
            step -= flat[i]
            flat[i] = original
            flat_grad[i] = sum(float(np.sum((p - m) * cot))
                               for p, m, cot in zip(plus, minus, cotangents)) / step
        grads.append(grad)
    return grads


def _regroup(inputs, per_slot):
    """Per-slot results back in the shape of ``inputs``: an array, a list, or None."""
    it = iter(per_slot)
    grouped = []
    for value in inputs:
        if _is_float_array(value):
            grouped.append(next(it))
        elif _is_sequence_input(value):
            grouped.append([next(it) if _is_float_array(item) else None for item in value])
        else:
            grouped.append(None)
    return grouped


def numerical_grad(f, *inputs, eps=1e-6, cotangent=None):
    """Central-difference gradient of ``sum(f(*inputs) * cotangent)`` w.r.t. each float input.

    Args:
        f: function of the inputs returning a Tensor (or a list/tuple of Tensors).
        inputs: float64 arrays/Tensors, sequences of them, or non-differentiable values.
        eps: half the finite-difference step.
        cotangent: array of the output's shape (a sequence of them for several outputs);
            ones by default, so a scalar ``f`` gets its plain gradient.

    Returns a list with one entry per input: an array for a float input, a list for a
    sequence input, ``None`` for anything else.
    """
    arguments, slots = _prepare(inputs)
    cotangents = _cotangents(cotangent, _call(f, arguments)[0])
    return _regroup(inputs, _numerical(f, arguments, slots, cotangents, eps))


def gradcheck(f, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, cotangent=None, seed=0):
    """Check autodiff gradients of ``f`` against central differences.

    Float64 inputs (also inside lists/tuples) are wrapped as Tensors requiring grad;
    other arguments pass unchanged. A non-scalar output is contracted with a fixed
    random ``cotangent`` (from ``seed``) unless one is given.

    Returns True. Raises GradcheckError naming the input, the worst index and both
    values where ``|analytic - numerical| > atol + rtol * |numerical|``; TypeError for
    a non-float64 floating input or a result that is not a Tensor.
    """
    arguments, slots = _prepare(inputs)
    outputs, leaves = _call(f, arguments)
    if cotangent is None:
        rng = np.random.default_rng(seed)
        cotangent = [rng.standard_normal(out.shape) for out in outputs]
    cotangents = _cotangents(cotangent, outputs)
    analytic = _backward(outputs, cotangents, leaves)
    numeric = _numerical(f, arguments, slots, cotangents, eps)
    for (label, array), a, n in zip(slots, analytic, numeric):
        a = np.zeros_like(n) if a is None else np.asarray(a.data if isinstance(a, Tensor) else a)
        _compare(label, a, n, atol, rtol)
    return True


def _compare(what, analytic, numeric, atol, rtol):
    if analytic.shape != numeric.shape:
        raise GradcheckError(f"gradcheck: gradient of {what} has shape {analytic.shape}, "
                             f"expected {numeric.shape}")
    error = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    bad = ~(error <= 0)  # also catches NaN
    if np.any(bad):
        worst = np.unravel_index(np.argmax(np.where(np.isnan(error), np.inf, error)),
                                 error.shape)
        raise GradcheckError(
            f"gradcheck: gradient of {what} (shape {numeric.shape}) disagrees with finite "
            f"differences at {int(bad.sum())} of {bad.size} entries; worst at index "
            f"{tuple(int(i) for i in worst)}: analytic {analytic[worst]!r}, numerical "
            f"{numeric[worst]!r} (atol={atol}, rtol={rtol})")


def gradgradcheck(f, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check second derivatives of ``f``: gradcheck of its ``create_graph`` gradient.

    The gradient of ``sum(f * v)`` (``v`` a fixed random cotangent) is contracted with
    fixed random directions ``u_i``, so the function checked is the scalar
    ``h(x) = sum_i <grad_i(x), u_i>``, whose gradient is a Hessian-vector product.
    Takes the same inputs as ``gradcheck``; raises GradcheckError the same way.
    """
    arguments, slots = _prepare(inputs)
    rng = np.random.default_rng(seed)
    cotangents = [rng.standard_normal(out.shape) for out in _call(f, arguments)[0]]
    directions = [rng.standard_normal(array.shape) for _, array in slots]

    def projected_gradient(*tensors):
        grads = _backward(_outputs(f(*tensors)), cotangents, _differentiable_leaves(tensors),
                          create_graph=True)
        total = Tensor(np.zeros(()))
        for grad, direction in zip(grads, directions):
            if grad is not None:
                total = total + (grad * direction).sum()
        return total

    return gradcheck(projected_gradient, *arguments, eps=eps, atol=atol, rtol=rtol,
                     cotangent=np.ones(()))
