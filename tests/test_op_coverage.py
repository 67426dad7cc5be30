"""The NumPy a researcher writes, on Tensors: dispatch records the graph, float32 stays
float32, conventions at ties/zeros match PyTorch, and bad input names op, argument, shape.
(Gradients, second order and parity of every op come from tests/test_registry_*.)"""
import numpy as np
import pytest

import autograd as ag
from autograd import Tensor

UNARY = ["tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "arcsinh", "arctanh", "expm1",
         "exp2", "log2", "log10", "square", "reciprocal", "cbrt", "sinc", "erf"]


def leaf(values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


@pytest.mark.parametrize("name", UNARY)
def test_unary_ops_keep_float32_in_values_and_gradients(name):
    x = leaf([0.3, 0.6], np.float32)
    out = getattr(ag, name)(x)
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize("function", [
    lambda x: ag.cumsum(x, axis=0), lambda x: ag.cumprod(x, axis=1), lambda x: ag.sort(x),
    lambda x: ag.linalg.inv(x), lambda x: ag.linalg.norm(x, "nuc"), lambda x: ag.median(x),
    lambda x: ag.linalg.eigh(x)[1], lambda x: ag.logaddexp(x, x.T), lambda x: ag.diff(x)])
def test_scans_sorts_and_linalg_keep_float32(function):
    x = leaf([[2.0, 0.5], [0.5, 3.0]], np.float32)
    out = function(x)
    (out * out).sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32


def test_numpy_functions_on_tensors_record_the_graph():
    x = leaf([[3.0, 1.0, 2.0], [0.5, 2.5, 1.5]])
    for out in (np.sort(x), np.cumsum(x, axis=1), np.tan(x), np.median(x, axis=0),
                np.take_along_axis(x, np.argsort(x.data, axis=1), axis=1), np.roll(x, 1),
                np.hypot(x, x), np.diff(x), np.quantile(x, [0.25, 0.5]), np.trace(x),
                np.linalg.norm(x), np.outer(x, x), np.kron(x, x), np.vstack([x, x])):
        assert isinstance(out, Tensor) and out.requires_grad
    np.sort(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.ones((2, 3)))


def test_rounding_and_classification_record_no_gradient():
    x = leaf([-1.5, 0.5, 2.5])
    for out in (np.floor(x), np.ceil(x), np.round(x), np.trunc(x), x % 2.0, x // 2.0,
                np.isnan(x), np.isfinite(x), np.argsort(x)):
        assert isinstance(out, Tensor) and not out.requires_grad
    np.testing.assert_array_equal(np.round(x).data, [-2.0, 0.0, 2.0])   # halves to even


def test_sort_ties_follow_a_stable_order_like_torch():
    torch = pytest.importorskip("torch")
    values = np.array([2.0, 1.0, 2.0, 1.0])
    cotangent = np.array([1.0, 2.0, 3.0, 4.0])
    x = leaf(values)
    (ag.sort(x) * cotangent).sum().backward()
    t = torch.tensor(values, requires_grad=True)
    (torch.sort(t, stable=True).values * torch.tensor(cotangent)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, t.grad.numpy())


@pytest.mark.parametrize("ours, theirs", [("fmax", "fmax"), ("fmin", "fmin"),
                                          ("cumprod", "cumprod"), ("median", None)])
def test_ties_and_zeros_match_torch(ours, theirs):
    torch = pytest.importorskip("torch")
    if ours == "cumprod":
        values = np.array([[2.0, 0.0, 3.0, 0.0, 1.5]])
        x = leaf(values)
        (ag.cumprod(x, axis=1) * np.arange(1.0, 6.0)).sum().backward()
        t = torch.tensor(values, requires_grad=True)
        (torch.cumprod(t, dim=1) * torch.arange(1.0, 6.0, dtype=torch.float64)).sum().backward()
    elif ours == "median":
        values = np.array([4.0, 1.0, 3.0, 2.0])          # even count: mean of 2 and 3
        x = leaf(values)
        ag.median(x).backward()
        t = torch.tensor(values, requires_grad=True)
        torch.quantile(t, 0.5).backward()
        np.testing.assert_allclose(x.grad.data, [0.0, 0.0, 0.5, 0.5])
    else:
        a, b = np.array([1.0, 2.0, np.nan]), np.array([1.0, 3.0, 5.0])
        x, y = leaf(a), leaf(b)
        getattr(ag, ours)(x, y).sum().backward()
        t, u = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        getattr(torch, theirs)(t, u).sum().backward()
        np.testing.assert_array_equal(y.grad.data, u.grad.numpy())
    np.testing.assert_allclose(x.grad.data, t.grad.numpy())


def test_topk_returns_values_and_indices_like_torch():
    values, indices = ag.topk(leaf([[1.0, 5.0, 3.0], [4.0, 0.0, 2.0]]), 2)
    np.testing.assert_array_equal(values.data, [[5.0, 3.0], [4.0, 2.0]])
    np.testing.assert_array_equal(indices.data, [[1, 2], [0, 2]])
    assert values.requires_grad and not indices.requires_grad


def test_bad_input_names_the_op_argument_and_shape():
    x = leaf(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"cumsum: axis=5 is out of range for an input of shape \(2, 3\)"):
        ag.cumsum(x, axis=5)
    with pytest.raises(ValueError, match=r"sort: axis=-3 is out of range for an input of shape \(2, 3\)"):
        np.sort(x, axis=-3)
    with pytest.raises(ValueError, match=r"topk: k=4 must be an int in \[0, 3\].*axis 1 of the input of shape \(2, 3\)"):
        ag.topk(x, 4)
    with pytest.raises(ValueError, match=r"take_along_axis: indices must have as many axes"):
        ag.take_along_axis(x, np.array([0, 1]), axis=1)
    with pytest.raises(ValueError, match=r"put_along_axis: indices repeat a position along axis 1"):
        ag.put_along_axis(x, np.array([[0, 0], [1, 2]]), 1.0, axis=1)
    with pytest.raises(ValueError, match=r"quantile: q must be a number or 1-D sequence in \[0, 1\]"):
        ag.quantile(x, 1.5)
    with pytest.raises(ValueError, match=r"diff: n must be a non-negative int"):
        ag.diff(x, n=-1)
    with pytest.raises(ValueError, match=r"moveaxis: source=5 is out of range for an input of shape \(2, 3\)"):
        np.moveaxis(x, 5, 0)
    with pytest.raises(ValueError, match=r"roll: axis=2 is out of range for an input of shape \(2, 3\)"):
        np.roll(x, 1, axis=2)
    with pytest.raises(TypeError, match=r"numpy.put_along_axis has no registered autograd op"):
        np.put_along_axis(x, np.array([[0], [1]]), 1.0, axis=1)


def test_put_along_axis_is_out_of_place_and_routes_gradients():
    arr, values = leaf(np.zeros((2, 3))), leaf([[1.0], [2.0]])
    out = ag.put_along_axis(arr, np.array([[2], [0]]), values, axis=1)
    np.testing.assert_array_equal(out.data, [[0, 0, 1], [2, 0, 0]])
    assert np.all(arr.data == 0)
    (out * np.arange(6.0).reshape(2, 3)).sum().backward()
    np.testing.assert_array_equal(arr.grad.data, [[0, 1, 0], [0, 4, 5]])
    np.testing.assert_array_equal(values.grad.data, [[2], [3]])
