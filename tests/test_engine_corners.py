"""Corners where the engine once gave a wrong or surprising result without an error:
each case below is now either right (as PyTorch computes it) or a clear error."""
import copy
import pickle
import time

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor


def leaf(values):
    return Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def const(values):
    return Tensor(np.asarray(values, dtype=np.float64))


VIEWS = {
    "reshape": lambda a: a.reshape(3),
    "view": lambda a: a.view(3),
    "basic slice": lambda a: a[:2],
    "detach": lambda a: a.detach(),
    "T": lambda a: a.T,
    "transpose": lambda a: a.transpose(),
    "expand_dims": lambda a: a.unsqueeze(0)[0],
}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_a_write_through_a_view_after_recording_raises(name):
    a = const([1.0, 2.0, 3.0])
    w = leaf([1.0, 1.0, 1.0])
    loss = (a * w).sum()
    VIEWS[name](a)[0] = 100.0
    with pytest.raises(RuntimeError, match=r"modified in place by setitem"):
        loss.backward()


def test_a_write_to_the_base_is_seen_through_a_recorded_view():
    a = const([[1.0, 2.0, 3.0]])
    w = leaf([1.0, 1.0, 1.0])
    loss = (a.reshape(3) * w).sum()
    a.mul_(2.0)
    with pytest.raises(RuntimeError, match=r"modified in place by mul_"):
        loss.backward()


def test_an_advanced_index_copies_and_shares_no_version():
    a = const([1.0, 2.0, 3.0])
    w = leaf([1.0, 1.0, 1.0])
    loss = (a * w).sum()
    a[[0, 1]][0] = 100.0                     # writes into a copy: a is unchanged
    loss.backward()
    np.testing.assert_array_equal(w.grad.data, [1.0, 2.0, 3.0])


def test_numpy_copyto_into_a_tensor_is_an_in_place_write():
    a = const([1.0, 2.0])
    w = leaf([1.0, 1.0])
    loss = (a * w).sum()
    np.copyto(a, np.array([5.0, 6.0]))
    np.testing.assert_array_equal(a.data, [5.0, 6.0])
    assert a._version == 1
    with pytest.raises(RuntimeError, match=r"modified in place by numpy\.copyto"):
        loss.backward()
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        np.copyto(w, np.zeros(2))


def test_ndarray_update_with_a_tensor_is_plain_numpy():
    """The source notes' update line: ``w.data -= lr * w.grad``."""
    w = leaf([1.0, 2.0])
    (w * w).sum().backward()
    before = w.data
    w.data -= 0.5 * w.grad
    assert w.data is before
    np.testing.assert_allclose(w.data, [0.0, 0.0])


def test_std_at_zero_spread_has_gradient_zero():
    x = leaf([2.0, 2.0, 2.0, 2.0])
    x.std().backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros(4))
    rows = leaf([[1.0, 1.0], [1.0, 3.0]])
    rows.std(axis=1, ddof=1).sum().backward()
    assert np.isfinite(rows.grad.data).all()
    np.testing.assert_allclose(rows.grad.data[0], [0.0, 0.0])


def test_std_at_zero_spread_matches_pytorch():
    torch = pytest.importorskip("torch")
    values = np.array([[3.0, 3.0, 3.0], [1.0, 2.0, 4.0]])
    x = leaf(values)
    x.std(axis=1).sum().backward()
    t = torch.tensor(values, requires_grad=True)
    t.std(dim=1, correction=0).sum().backward()
    np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-12, atol=0)


@pytest.mark.parametrize("base", [0.0, 5e-324, 1e-310, -1e-310, 2.0, -3.0])
def test_power_zero_has_gradient_zero_everywhere(base):
    x = leaf([base])
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0])
    y = leaf([base])
    ag.power(y, np.zeros(1)).sum().backward()
    np.testing.assert_array_equal(y.grad.data, [0.0])


@pytest.mark.parametrize("scalar", [np.float64(2.0), np.float32(2.0), np.int64(2), np.sqrt(4.0)])
def test_numpy_scalars_keep_the_tensor_dtype(scalar):
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    for result in (x / scalar, x * scalar, scalar * x, x + scalar, scalar - x, x ** scalar,
                   ag.maximum(x, scalar)):
        assert result.dtype == np.float32, (type(scalar), result.dtype)
    (x / scalar).sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("data", [["a", "b"], np.array([b"x", b"y"]), np.array([object(), 1]),
                                  np.zeros(2, dtype=[("a", "f8")])])
def test_non_numeric_data_is_refused_naming_the_dtype(data):
    with pytest.raises(TypeError, match=r"dtype .*tensors hold numbers"):
        Tensor(data)


def _chain(length):
    x = leaf(np.ones(4))
    y = x
    with ag.no_grad():
        pass
    for _ in range(length):
        y = y * 1.0
    return x, y


@pytest.mark.parametrize("copier", ["pickle", "copy", "deepcopy"])
def test_copies_keep_data_dtype_and_flag_and_drop_the_graph(copier):
    x, y = _chain(10)
    do = {"pickle": lambda t: pickle.loads(pickle.dumps(t)), "copy": copy.copy,
          "deepcopy": copy.deepcopy}[copier]
    for original in (x, y, Tensor(np.arange(3, dtype=np.int32))):
        copied = do(original)
        assert type(copied) is Tensor and copied.is_leaf and copied.grad_fn is None
        assert copied.dtype == original.dtype and copied.requires_grad == original.requires_grad
        np.testing.assert_array_equal(copied.data, original.data)


def test_pickling_the_result_of_a_million_op_chain_is_fast_and_small():
    x = leaf(np.ones(4))
    y = x
    for _ in range(1_000_000):
        y = y + 1.0
    started = time.perf_counter()
    payload = pickle.dumps(y)
    copied = copy.deepcopy(y)
    elapsed = time.perf_counter() - started
    assert len(payload) < 1000, len(payload)
    assert copied.is_leaf and copied.requires_grad
    assert elapsed < 0.5, f"pickle + deepcopy took {elapsed:.3f} s"
    del y, copied


def test_deepcopy_of_a_leaf_copies_its_grad():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    copied = copy.deepcopy(x)
    np.testing.assert_array_equal(copied.grad.data, [2.0, 4.0])
    assert not np.shares_memory(copied.grad.data, x.grad.data)


CONSTANT_OPERANDS = {
    "multiply": lambda x, c: (x * c, ag.multiply(c, x)),
    "subtract": lambda x, c: (x - c, c - x),
    "maximum": lambda x, c: (ag.maximum(x, c), ag.maximum(c, x)),
    "minimum": lambda x, c: (ag.minimum(x, c), ag.minimum(c, x)),
    "divide": lambda x, c: (x / c, c / x),
    "matmul": lambda x, c: (x.reshape(2, 2) @ c.reshape(2, 2), c.reshape(2, 2) @ x.reshape(2, 2)),
}


@pytest.mark.parametrize("name", sorted(CONSTANT_OPERANDS))
def test_vjps_compute_no_gradient_for_a_constant_operand(name):
    x = leaf([1.0, 2.0, 3.0, 4.0])
    constant = np.array([0.5, 2.5, 3.5, -1.0])
    for result in CONSTANT_OPERANDS[name](x, constant):
        op = result.grad_fn
        grads = op.vjp(np.ones(result.shape), result.data, *op.arrays)
        for needs, grad in zip(op.needs_grad, grads):
            assert needs or grad is None, f"{name} computed a gradient nobody asked for"


GRAPHS_SHARING_A_GRADIENT = {
    "add": lambda a, b: (a + b).sum(),
    "add then reshape": lambda a, b: (a + b).reshape(2, 2).sum(),
    "subtract": lambda a, b: (a - b).sum(),
    "same input twice": lambda a, b: (a + a + b).sum(),
    "concatenate": lambda a, b: ag.concatenate([a, b]).sum(),
}


@pytest.mark.parametrize("name", sorted(GRAPHS_SHARING_A_GRADIENT))
def test_no_two_leaves_share_gradient_memory(name):
    a, b = leaf(np.ones(4)), leaf(np.ones(4))
    GRAPHS_SHARING_A_GRADIENT[name](a, b).backward()
    assert not np.shares_memory(a.grad.data, b.grad.data)
    a.grad.data[:] = 7.0                      # what clip_grad_norm_ does in place
    assert not (b.grad.data == 7.0).any()


def test_a_gradient_never_shares_memory_with_the_seed():
    a = leaf(np.ones(3))
    seed = np.full(3, 2.0)
    (a + 0.0).backward(seed)
    assert not np.shares_memory(a.grad.data, seed)


@pytest.mark.parametrize("inner, outer", [(7, 3), (3, 7)], ids=["long rows", "long columns"])
def test_batched_outer_product_gradients_in_either_loop_order(inner, outer):
    # (B, 1, k) @ (B, k, n): the VJP forms outer products and picks its loop order by
    # which of k and n is longer; both orders must give the same, checked gradients
    from autograd.testing import gradcheck, gradgradcheck
    rng = np.random.default_rng(inner)
    a = rng.standard_normal((4, 1, inner))
    b = rng.standard_normal((4, inner, outer))
    assert gradcheck(lambda x, y: x @ y, a, b)
    assert gradgradcheck(lambda x, y: x @ y, a, b)
