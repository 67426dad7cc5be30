"""autograd.testing itself: gradcheck must catch wrong gradients and say where, and the
strategies must produce what their docstrings promise (the generated tests rely on both)."""
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, strategies as st

from autograd import Tensor
from autograd.op import REGISTRY, Op, apply
from autograd.testing import GradcheckError, gradcheck, gradgradcheck, numerical_grad
import autograd.testing.strategies as strategies


class WrongSquare(Op):
    """x ** 2 with a deliberately wrong VJP (3x instead of 2x). Never registered."""
    name = "wrong_square"

    def forward(self, x):
        return x * x

    def vjp(self, g, out, x):
        return (g * 3.0 * x,)


class RightSquareWrongSecondOrder(Op):
    """x ** 2 whose VJP is right in value but built from a constant, so its own
    derivative (the second derivative of x ** 2) comes out 0 instead of 2."""
    name = "square_constant_vjp"

    def forward(self, x):
        return x * x

    def vjp(self, g, out, x):
        return (g * (2.0 * np.asarray(x.data if isinstance(x, Tensor) else x)),)


def wrong_square(x):
    return apply(WrongSquare, (x,))


def test_local_ops_are_not_in_the_registry():
    assert "wrong_square" not in REGISTRY and "square_constant_vjp" not in REGISTRY


# --- gradcheck ------------------------------------------------------------------------------

def test_gradcheck_passes_a_correct_function():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((3, 4)), rng.standard_normal(4)
    assert gradcheck(lambda a, b: (a * b).tanh() + a.exp() / (b * b + 1.0), x, y,
                     rtol=1e-6, atol=1e-9) is True


def test_gradcheck_reports_input_worst_index_and_both_values():
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    ones = np.ones((2, 2))
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a: wrong_square(a), x, cotangent=ones)
    message = str(info.value)
    assert "input 0" in message
    # Analytic 3x against numeric 2x: the error |x| is largest at x = 2.0, index (1, 0).
    assert "worst at index (1, 0)" in message
    analytic = float(re.search(r"analytic (?:np\.float64\()?([-\d.e]+)", message).group(1))
    numerical = float(re.search(r"numerical (?:np\.float64\()?([-\d.e]+)", message).group(1))
    assert analytic == pytest.approx(6.0) and numerical == pytest.approx(4.0, rel=1e-6)


def test_gradcheck_names_the_right_input_among_several():
    x, y = np.array([1.0, 2.0]), np.array([0.5, 1.5])
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(lambda a, b: a * 2.0 + wrong_square(b), x, y)


def test_gradcheck_names_an_entry_of_a_sequence_input():
    x, y = np.array([1.0, 2.0]), np.array([0.5, 1.5])
    with pytest.raises(GradcheckError, match=r"input 0\[1\]"):
        gradcheck(lambda pair: pair[0] * 2.0 + wrong_square(pair[1]), [x, y])


def test_gradcheck_checks_every_output_of_a_multi_output_function():
    x = np.array([1.0, 2.0])
    assert gradcheck(lambda a: (a.exp(), a * a), x, rtol=1e-6, atol=1e-9)
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(lambda a: (a.exp(), wrong_square(a)), x)


def test_gradcheck_catches_a_missing_gradient():
    x = np.array([1.0, 2.0])
    # detach cuts the graph: autodiff sees no dependence, finite differences do.
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(lambda a: a.detach() * a, x)


def test_gradcheck_passes_non_float_arguments_unchanged():
    x = np.array([1.0, -2.0, 3.0])
    mask = np.array([True, False, True])
    seen = []

    def masked(a, condition, scale):
        seen.append((type(condition), scale))
        return a * Tensor(condition.astype(np.float64)) * scale

    assert gradcheck(masked, x, mask, 3)
    assert all(kind is np.ndarray and scale == 3 for kind, scale in seen)


def test_gradcheck_does_not_modify_the_callers_arrays():
    x = np.array([1.0, 2.0])
    before = x.copy()
    gradcheck(lambda a: a.sin(), x)
    np.testing.assert_array_equal(x, before)


def test_gradcheck_is_safe_for_outputs_that_view_the_input():
    # reshape may return a view of the perturbed array; both differences must stay valid.
    x = np.arange(6.0).reshape(2, 3)
    assert gradcheck(lambda a: a.reshape(3, 2) * 1.0, x, rtol=1e-6, atol=1e-9)


def test_gradcheck_handles_empty_and_zero_dimensional_inputs():
    assert gradcheck(lambda a, b: a.exp() * b, np.zeros((0, 3)), np.array(0.5))


def test_gradcheck_refuses_float32():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda a: a * 2, np.ones(2, dtype=np.float32))


def test_gradcheck_refuses_a_non_tensor_result():
    with pytest.raises(TypeError, match="must return a Tensor"):
        gradcheck(lambda a: a.data * 2, np.ones(2))


def test_gradgradcheck_passes_correct_second_derivatives():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((2, 3)), rng.uniform(0.5, 2.0, 3)
    assert gradgradcheck(lambda a, b: (a * b).sin() / b + a ** 3, x, y, rtol=1e-5, atol=1e-7)


def test_gradgradcheck_catches_a_vjp_that_is_not_differentiable():
    x = np.array([0.5, 1.5])
    assert gradcheck(lambda a: apply(RightSquareWrongSecondOrder, (a,)), x)
    with pytest.raises(GradcheckError, match="input 0"):
        gradgradcheck(lambda a: apply(RightSquareWrongSecondOrder, (a,)), x)


# --- numerical_grad -------------------------------------------------------------------------

def test_numerical_grad_matches_a_known_gradient():
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((3, 2)), rng.uniform(1.0, 2.0, (3, 2))
    grad_x, grad_y = numerical_grad(lambda a, b: (a.sin() * b.log()).sum(), x, y)
    np.testing.assert_allclose(grad_x, np.cos(x) * np.log(y), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(grad_y, np.sin(x) / y, rtol=1e-8, atol=1e-10)


def test_numerical_grad_uses_the_cotangent_and_skips_non_floats():
    x = np.array([1.0, 2.0, 3.0])
    cotangent = np.array([1.0, -2.0, 0.5])
    grad, nothing = numerical_grad(lambda a, k: a * a * k, x, 2, cotangent=cotangent)
    np.testing.assert_allclose(grad, 4.0 * x * cotangent, rtol=1e-8)
    assert nothing is None


def test_numerical_grad_of_a_sequence_input():
    x, y = np.array([1.0, 2.0]), np.array([3.0])
    (grads,) = numerical_grad(lambda pair: (pair[0] ** 2).sum() * pair[1].sum(), [x, y])
    np.testing.assert_allclose(grads[0], 2 * x * 3.0, rtol=1e-8)
    np.testing.assert_allclose(grads[1], [5.0], rtol=1e-8)


# --- strategies -----------------------------------------------------------------------------

@pytest.mark.parametrize("spelling", [
    pytest.param("import autograd as ag; ag.testing.strategies.shapes()", id="attribute"),
    pytest.param("from autograd.testing import strategies; strategies.shapes()", id="from-import"),
])
def test_strategies_are_reachable_as_documented(spelling):
    # A fresh interpreter: here the module is already imported, which would hide a
    # broken lazy import in autograd.testing.
    result = subprocess.run([sys.executable, "-c", spelling], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


@given(shape=strategies.shapes())
def test_shapes_stay_within_the_documented_bounds(shape):
    assert 0 <= len(shape) <= strategies.MAX_DIMS
    assert all(1 <= side <= strategies.MAX_SIDE for side in shape)


@given(shape=strategies.shapes(min_dims=2, max_dims=3, max_side=2))
def test_shapes_honour_their_arguments(shape):
    assert 2 <= len(shape) <= 3 and all(1 <= side <= 2 for side in shape)


@given(shapes=strategies.broadcastable_shapes(3))
def test_broadcastable_shapes_broadcast(shapes):
    assert len(shapes) == 3
    np.broadcast_shapes(*shapes)
    assert all(len(shape) <= strategies.MAX_DIMS for shape in shapes)


@given(array=strategies.arrays(low=-2.0, high=2.0, avoid=(0.0, 1.0)))
def test_arrays_keep_away_from_kinks(array):
    assert array.dtype == np.float64
    assert np.all((array >= -2.0 - strategies.KINK_MARGIN) & (array <= 2.0 + strategies.KINK_MARGIN))
    assert np.all(np.abs(array) >= strategies.KINK_MARGIN * 0.999)
    assert np.all(np.abs(array - 1.0) >= strategies.KINK_MARGIN * 0.999)


@given(tensor=strategies.tensors(shape=(2, 3)))
def test_tensors_require_grad_and_are_float64(tensor):
    assert isinstance(tensor, Tensor) and tensor.requires_grad
    assert tensor.shape == (2, 3) and tensor.dtype == np.float64


@given(array=strategies.distinct_arrays())
def test_distinct_arrays_have_no_ties(array):
    values = np.sort(array.reshape(-1))
    assert np.all(np.diff(values) >= 0.1 - 1e-12)


@given(data=st.data(), arity=st.integers(1, 3))
def test_elementwise_samples_broadcast(data, arity):
    args, kwargs = data.draw(strategies.elementwise(arity, low2=0.5, high2=1.0))
    assert len(args) == arity and kwargs == {}
    np.broadcast_shapes(*(arg.shape for arg in args))
    if arity >= 2:
        assert np.all((args[1] >= 0.5) & (args[1] <= 1.0))


@given(data=st.data())
def test_reduction_samples_are_valid_numpy_reductions(data):
    (x,), kwargs = data.draw(strategies.reduction())
    assert set(kwargs) == {"axis", "keepdims"}
    np.sum(x, **kwargs)


@given(args=REGISTRY["where"].sample(strategies))
def test_where_samples_are_a_boolean_condition_and_two_arrays(args):
    (condition, x, y), kwargs = args
    assert condition.dtype == np.bool_ and x.dtype == y.dtype == np.float64
    np.broadcast_shapes(condition.shape, x.shape, y.shape)
