"""The Tensor type itself: dtype rules, construction, and the array-like surface."""
import operator

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor

BINARY_OPERATORS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow]
BINARY_FUNCTIONS = ["add", "subtract", "multiply", "divide", "power", "maximum", "minimum"]


@pytest.fixture
def restore_default_dtype():
    previous = ag.get_default_dtype()
    yield
    ag.set_default_dtype(previous)


# --- dtypes -------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ndarray_keeps_its_float_dtype(dtype):
    x = Tensor(np.ones((2, 3), dtype=dtype), requires_grad=True)
    assert x.dtype == dtype
    y = (x * x).exp().sum()
    assert y.dtype == dtype
    y.backward()
    assert x.grad.dtype == dtype


@pytest.mark.parametrize("op", BINARY_OPERATORS, ids=lambda op: op.__name__)
@pytest.mark.parametrize("scalar", [2, 1.5, 0.5])
def test_python_scalars_never_upcast_float32_operators(op, scalar):
    x = Tensor(np.full((2,), 1.25, dtype=np.float32), requires_grad=True)
    for result in (op(x, scalar), op(scalar, x)):
        assert result.dtype == np.float32, f"{op.__name__} with {scalar!r} gave {result.dtype}"
        result.sum().backward()
        assert x.grad.dtype == np.float32


@pytest.mark.parametrize("name", BINARY_FUNCTIONS)
def test_python_scalars_never_upcast_float32_functions(name):
    function = getattr(ag, name)
    x = Tensor(np.full((2,), 1.25, dtype=np.float32), requires_grad=True)
    for result in (function(x, 0.75), function(0.75, x)):
        assert result.dtype == np.float32, f"{name} with a Python float gave {result.dtype}"


def test_unary_ops_keep_float32():
    x = Tensor(np.full((3,), 0.5, dtype=np.float32), requires_grad=True)
    for result in (-x, abs(x), x.exp(), x.log(), x.sqrt(), x.tanh(), x.sigmoid(), x.relu(),
                   x.softplus(), x.sum(), x.mean(), x.clip(0.0, 1.0), x.T):
        assert result.dtype == np.float32, result


def test_mixed_float_tensors_promote_like_numpy():
    x32 = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    x64 = Tensor(np.ones(2, dtype=np.float64), requires_grad=True)
    y = x32 * x64
    assert y.dtype == np.float64
    y.sum().backward()
    assert x32.grad.dtype == np.float32 and x64.grad.dtype == np.float64


def test_python_data_takes_the_default_dtype(restore_default_dtype):
    assert ag.get_default_dtype() == np.float32
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor(3.0).dtype == np.float32
    assert ag.tensor([[1.5]]).dtype == np.float32
    assert ag.zeros(2, 3).dtype == np.float32
    ag.set_default_dtype(np.float64)
    assert ag.get_default_dtype() == np.float64
    assert Tensor([1.0, 2.0]).dtype == np.float64
    assert ag.ones(2).dtype == np.float64
    assert Tensor(np.ones(2, dtype=np.float32)).dtype == np.float32, "ndarrays keep their dtype"


def test_set_default_dtype_refuses_non_floats(restore_default_dtype):
    with pytest.raises(TypeError, match="int64"):
        ag.set_default_dtype(np.int64)
    assert ag.get_default_dtype() == np.float32


def test_python_ints_and_bools_stay_integer_and_bool():
    assert Tensor([1, 2]).dtype.kind == "i"
    assert Tensor([True, False]).dtype == np.bool_


@pytest.mark.parametrize("data", [np.arange(3), np.array([True, False]), [1, 2]])
def test_integer_and_bool_tensors_cannot_require_grad(data):
    with pytest.raises(TypeError, match="floating"):
        Tensor(data, requires_grad=True)
    x = Tensor(data)
    with pytest.raises(TypeError, match="floating"):
        x.requires_grad = True
    with pytest.raises(TypeError, match="floating"):
        x.requires_grad_()
    assert not x.requires_grad


def test_explicit_dtype_converts():
    x = Tensor([1, 2, 3], dtype=np.float64, requires_grad=True)
    assert x.dtype == np.float64 and x.requires_grad


def test_tensor_factory_copies_but_constructor_wraps():
    data = np.array([1.0, 2.0])
    assert Tensor(data).data is data
    copied = ag.tensor(data)
    data[0] = 9.0
    assert copied.data[0] == 1.0


# --- the array-like surface ---------------------------------------------------------------

def test_shape_attributes():
    x = Tensor(np.zeros((2, 3, 4)))
    assert x.shape == (2, 3, 4) and x.ndim == 3 and x.size == 24 and len(x) == 2
    scalar = Tensor(np.float64(1.0))
    assert scalar.shape == () and scalar.ndim == 0 and scalar.size == 1
    with pytest.raises(TypeError, match="0-d"):
        len(scalar)


def test_array_protocol():
    data = np.arange(6.0).reshape(2, 3)
    x = Tensor(data, requires_grad=True)
    assert np.asarray(x) is data
    assert np.asarray(x, dtype=np.float32).dtype == np.float32
    copied = np.array(x, copy=True)
    copied[0, 0] = 5.0
    assert data[0, 0] == 0.0


def test_numpy_item_and_conversions():
    data = np.array([[2.5]])
    x = Tensor(data, requires_grad=True)
    assert x.numpy() is data
    assert x.item() == 2.5 and isinstance(x.item(), float)
    assert float(x) == 2.5 and int(Tensor(np.array([3.0]))) == 3
    assert x.tolist() == [[2.5]]
    with pytest.raises(ValueError, match="one element"):
        Tensor(np.ones(2)).item()


def test_transpose_property():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    np.testing.assert_array_equal(x.T.data, x.data.T)
    x.T.sum().backward()
    assert x.grad.shape == (2, 3)


def test_repr_shows_data_and_grad_tracking():
    x = Tensor(np.array([1.5, -2.0], dtype=np.float32), requires_grad=True)
    assert "1.5" in repr(x) and "-2." in repr(x) and "requires_grad=True" in repr(x)
    y = x * 2
    assert "3." in repr(y) and "grad_fn=<multiply>" in repr(y)
    constant = Tensor(np.array([4.0, 5.0]))
    assert "4." in repr(constant) and "grad" not in repr(constant)
    assert "float64" in repr(constant), "a non-default dtype is shown"


@pytest.mark.parametrize("compare", [operator.lt, operator.le, operator.gt, operator.ge,
                                     operator.eq, operator.ne], ids=lambda op: op.__name__)
def test_comparisons_return_tensors_without_grad(compare):
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    for other in (2.0, np.array([3.0, 2.0, 1.0]), Tensor(np.array([3.0, 2.0, 1.0]))):
        result = compare(x, other)
        assert isinstance(result, Tensor) and result.dtype == np.bool_
        assert not result.requires_grad and result.is_leaf
        np.testing.assert_array_equal(result.data, compare(x.data, np.asarray(other)))


def test_tensor_is_hashable_by_identity():
    x, y = Tensor(np.ones(2)), Tensor(np.ones(2))
    assert len({x, y}) == 2 and x in {x: 1}


def test_iteration_yields_rows():
    x = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    rows = list(x)
    assert len(rows) == 3
    np.testing.assert_array_equal(rows[1].data, [2.0, 3.0])
    sum(row.sum() for row in rows).backward()
    np.testing.assert_array_equal(x.grad.data, np.ones((3, 2)))


def test_zero_grad_and_grad_assignment():
    x = Tensor(np.ones(2), requires_grad=True)
    (x * 2).sum().backward()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])
