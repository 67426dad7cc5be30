"""Python numbers in arithmetic with a Tensor give exactly NumPy's weak-scalar results
(the operators pass them to NumPy as cached 0-d arrays of the tensor's dtype)."""
import warnings

import numpy as np
import pytest

import autograd as ag

OPERATIONS = {
    "x * s": lambda x, s: x * s, "s * x": lambda x, s: s * x,
    "x + s": lambda x, s: x + s, "s + x": lambda x, s: s + x,
    "x - s": lambda x, s: x - s, "s - x": lambda x, s: s - x,
    "x / s": lambda x, s: x / s, "s / x": lambda x, s: s / x,
}
NUMBERS = [0.1, -7, 3, 2 ** 70, 1e6, 1e40, 0.0, -0.0, float("inf"), float("nan"), 1]


def outcome(operation, x, number):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return operation(x, number), None
        except Exception as err:  # the same error on both sides is the same outcome
            return None, type(err)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int64, np.int8])
@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_results_dtypes_and_errors_equal_numpys(dtype, name):
    operation = OPERATIONS[name]
    array = np.array([1.5, -2.0, 3.25, 0.0]).astype(dtype)
    for number in NUMBERS:
        expected, expected_error = outcome(operation, array, number)
        got, got_error = outcome(operation, ag.Tensor(array), number)
        assert got_error is expected_error, (name, number)
        if expected is not None:
            assert got.dtype == expected.dtype, (name, number)
            np.testing.assert_array_equal(got.data, expected)
            # the sign of zero too (x * -0.0, -0.0 - x)
            np.testing.assert_array_equal(np.signbit(got.data), np.signbit(expected))


def test_gradients_through_cached_scalars_and_the_cache_stays_read_only():
    for _ in range(2):  # the second pass takes the cached arrays
        x = ag.Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
        doubled = 2.0 * x
        y = (x * 3.0 + 1.0) / 4.0 - doubled
        constant = doubled.inputs[0]  # what stood for the 2.0
        y.sum().backward()
        assert x.grad.dtype == np.float32
        np.testing.assert_allclose(x.grad.data, [3 / 4 - 2] * 2)
    assert not isinstance(constant, ag.Tensor) and constant == 2.0
    with pytest.raises(ValueError):
        constant[...] = 5.0
