"""NumPy's own functions on Tensors: generated from the registry's ``numpy`` entries,
plus the behaviours around them (unregistered functions, ``np.asarray``, mixed operands).

Calling the NumPy spelling (``np.exp(x)``, ``np.sum(x, axis=0)``) on Tensors must give a
Tensor with exactly the value and gradient of our own function.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import autograd as ag
from autograd import Tensor
from autograd.op import REGISTRY
import autograd.testing.strategies as strategies


def spellings():
    """(entry, NumPy callable) pairs; aliases such as np.abs/np.absolute counted once."""
    pairs = []
    for entry in sorted(REGISTRY.values(), key=lambda entry: entry.name):
        seen = []
        for func in entry.numpy:
            if func not in seen:
                seen.append(func)
                pairs.append(pytest.param(entry.name, func, id=f"{entry.name}-np.{func.__name__}"))
    return pairs


def is_float_array(value):
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def as_tensors(value, leaves):
    """Float arrays (also inside sequences) become Tensors requiring grad, kept in ``leaves``."""
    if is_float_array(value):
        leaves.append(Tensor(value.copy(), requires_grad=True))
        return leaves[-1]
    if isinstance(value, (list, tuple)) and any(is_float_array(item) for item in value):
        return type(value)(as_tensors(item, leaves) for item in value)
    return value


def as_list(result):
    return list(result) if isinstance(result, (list, tuple)) else [result]


def run(function, args, kwargs):
    """Outputs of ``function`` on fresh Tensors, and the leaves' gradients of a fixed
    random projection of the outputs (None when no output records a graph)."""
    leaves = []
    outputs = as_list(function(*[as_tensors(value, leaves) for value in args], **kwargs))
    rng = np.random.default_rng(0)
    total = sum((out * rng.standard_normal(out.shape)).sum() for out in outputs
                if isinstance(out, Tensor) and out.requires_grad)
    if not isinstance(total, Tensor):
        return outputs, None
    total.backward()
    return outputs, [None if leaf.grad is None else leaf.grad.data for leaf in leaves]


@pytest.mark.parametrize("name, numpy_function", spellings())
@given(data=st.data())
def test_numpy_spelling_matches_our_function(name, numpy_function, data):
    entry = REGISTRY[name]
    sample = entry.sample(strategies) if entry.sample else strategies.elementwise(1)
    args, kwargs = data.draw(sample, label=f"{entry.name} (args, kwargs)")
    expected, expected_grads = run(entry.function, args, kwargs)
    got, got_grads = run(numpy_function, args, kwargs)
    spelling = f"numpy.{numpy_function.__name__}"
    assert len(got) == len(expected), f"{spelling}: number of outputs"
    for mine, reference in zip(got, expected):
        assert isinstance(mine, Tensor), f"{spelling} on Tensors returned {type(mine).__name__}"
        assert mine.dtype == reference.dtype, f"{spelling}: dtype"
        np.testing.assert_array_equal(mine.data, reference.data, err_msg=f"{spelling}: value")
        assert mine.requires_grad == reference.requires_grad, f"{spelling}: graph recording"
    assert (got_grads is None) == (expected_grads is None), f"{spelling}: gradient recorded"
    for mine, reference in zip(got_grads or (), expected_grads or ()):
        np.testing.assert_array_equal(mine, reference, err_msg=f"{spelling}: gradient")


def test_ndarray_on_the_left_dispatches_to_the_tensor():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = np.array([2.0, 3.0, 4.0]) * x + np.ones(3)
    assert isinstance(y, Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 3.0, 4.0])


def test_numpy_code_differentiates_unchanged():
    def user_code(w, x):
        return np.sum(np.tanh(np.matmul(x, w)) ** 2, axis=0).mean()

    w = Tensor(np.random.default_rng(1).standard_normal((3, 2)), requires_grad=True)
    x = np.random.default_rng(2).standard_normal((5, 3))
    ag.testing.gradcheck(user_code, w, x, rtol=1e-6, atol=1e-9)
    out = user_code(w, x)
    assert isinstance(out, Tensor) and out.requires_grad


def test_asarray_gives_the_data():
    data = np.arange(6.0).reshape(2, 3)
    x = Tensor(data, requires_grad=True)
    assert np.asarray(x) is data
    assert np.asarray(x, dtype=np.float32).dtype == np.float32
    np.testing.assert_array_equal(np.array(x), data)


def test_unregistered_function_raises_naming_it():
    x = Tensor(np.array([3.0, 1.0, 2.0]), requires_grad=True)
    with pytest.raises(TypeError, match=r"numpy\.convolve"):
        np.convolve(x, x)
    with pytest.raises(TypeError, match=r"numpy\.heaviside"):
        np.heaviside(x, x)


def test_ufunc_methods_other_than_call_are_refused():
    x = Tensor(np.array([3.0, 1.0, 2.0]), requires_grad=True)
    with pytest.raises(TypeError, match=r"numpy\.add\.reduce"):
        np.add.reduce(x)


def test_ufunc_out_into_an_ndarray_computes_values_without_a_graph():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    target = np.empty(2)
    result = np.exp(x, out=target)
    assert result is target and np.allclose(target, np.exp([1.0, 2.0]))


def test_value_only_functions_return_tensors_without_grad():
    x = Tensor(np.array([1.5, -2.0, 0.0]), requires_grad=True)
    for result in (np.greater(x, 0), np.isfinite(x), np.floor(x), x > 0):
        assert isinstance(result, Tensor) and not result.requires_grad
    assert np.allclose(x, np.array([1.5, -2.0, 0.0]))
