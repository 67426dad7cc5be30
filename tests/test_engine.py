"""Behaviour of the reverse-mode engine: accumulation, graph lifetime, higher order,
deep graphs, grad mode and the shapes gradients come back in."""
import gc
import threading
import weakref

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor


def leaf(values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


# --- accumulation and graph lifetime ----------------------------------------------------

def test_grad_accumulates_across_backward_calls():
    x = leaf([1.0, 2.0, 3.0])
    (x * 2.0).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2.0 + 2.0 * x.data)
    x.zero_grad()
    assert x.grad is None
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 3.0, 3.0])


def test_grad_is_a_tensor_of_the_leafs_shape_and_dtype():
    for dtype in (np.float32, np.float64):
        x = leaf(np.ones((2, 3)), dtype=dtype)
        (x * 2).sum().backward()
        assert isinstance(x.grad, Tensor)
        assert x.grad.shape == (2, 3) and x.grad.dtype == dtype
        assert not x.grad.requires_grad


def test_first_grad_does_not_alias_the_seed():
    x = leaf([1.0, 2.0])
    seed = np.array([1.0, 1.0])
    x.backward(seed)
    seed[0] = 100.0
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.data.copy()
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * first)


def test_second_backward_through_freed_graph_says_retain_graph():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_intermediates_are_garbage_after_backward():
    x = leaf(np.random.default_rng(0).standard_normal(1000))
    hidden = x.exp()
    probe = weakref.ref(hidden.data)
    out = (hidden * 2.0).tanh().sum()
    del hidden
    gc.collect()
    assert probe() is not None, "the graph keeps the intermediate alive before backward"
    out.backward()
    gc.collect()
    assert probe() is None, "backward freed the graph, yet an intermediate array is alive"
    assert out.data is not None and x.grad is not None


def test_retain_graph_keeps_intermediates():
    x = leaf([1.0, 2.0, 3.0])
    hidden = x.exp()
    probe = weakref.ref(hidden.data)
    out = (hidden * 2.0).sum()
    del hidden
    out.backward(retain_graph=True)
    gc.collect()
    assert probe() is not None


def test_deep_chain_backpropagates_without_recursion():
    depth, factor = 100_000, 1.0 + 1e-6
    x = leaf([0.5])
    y = x
    for _ in range(depth):
        y = y * factor
    y.backward(np.ones(1))
    np.testing.assert_allclose(x.grad.data, [factor ** depth], rtol=1e-9)
    np.testing.assert_allclose(y.data, [0.5 * factor ** depth], rtol=1e-9)


# --- higher order -----------------------------------------------------------------------

def test_create_graph_gives_a_differentiable_grad():
    x = leaf([1.5, -2.0])
    (x ** 3).sum().backward(create_graph=True)
    first = x.grad
    assert first.requires_grad and not first.is_leaf
    np.testing.assert_allclose(first.data, 3 * x.data ** 2)
    x.grad = None
    first.sum().backward()
    np.testing.assert_allclose(x.grad.data, 6 * x.data)


def test_third_derivative_through_repeated_create_graph():
    x = leaf([0.7])
    x.sin().sum().backward(create_graph=True)
    d1 = x.grad
    x.grad = None
    d1.sum().backward(create_graph=True)
    d2 = x.grad
    x.grad = None
    d2.sum().backward()
    np.testing.assert_allclose(d1.data, np.cos(0.7))
    np.testing.assert_allclose(d2.data, -np.sin(0.7))
    np.testing.assert_allclose(x.grad.data, -np.cos(0.7))


def test_plain_backward_gives_a_grad_without_graph():
    x = leaf([1.0, 2.0])
    (x ** 3).sum().backward()
    assert not x.grad.requires_grad and x.grad.is_leaf


# --- graph shapes -----------------------------------------------------------------------

def test_diamond_graph_sums_both_paths():
    x = leaf([2.0])
    a = x * 3.0
    b = a.exp()
    c = a * a
    (b + c).sum().backward()
    # d/dx [exp(3x) + 9x^2] = 3 exp(3x) + 18x
    np.testing.assert_allclose(x.grad.data, 3 * np.exp(6.0) + 36.0)


def test_shared_input_used_twice_in_one_op():
    x = leaf([1.0, -3.0, 0.5])
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data)
    y = leaf([2.0])
    (y + y + y).sum().backward()
    np.testing.assert_allclose(y.grad.data, [3.0])


@pytest.mark.parametrize("x_shape, y_shape", [
    ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((), (2, 2)), ((1,), (5,)),
])
def test_broadcast_gradients_reduce_to_input_shapes(x_shape, y_shape):
    rng = np.random.default_rng(0)
    x, y = leaf(rng.standard_normal(x_shape)), leaf(rng.standard_normal(y_shape))
    (x * y).sum().backward()
    assert x.grad.shape == x_shape and y.grad.shape == y_shape
    full = np.broadcast_shapes(x_shape, y_shape)
    y_broadcast = np.broadcast_to(y.data, full)
    axes = tuple(range(len(full) - len(x_shape)))
    expected = y_broadcast.sum(axis=axes) if axes else y_broadcast
    keep = tuple(i for i, n in enumerate(x_shape) if n == 1 and expected.shape[i] != 1)
    expected = expected.sum(axis=keep, keepdims=True) if keep else expected
    np.testing.assert_allclose(x.grad.data, expected)


def test_scalar_constant_operands_get_no_gradient():
    x = leaf([1.0, 2.0])
    y = 2.0 * x - 1.0 / (x + 3.0) + np.float64(5.0)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 2.0 + 1.0 / (x.data + 3.0) ** 2)


def test_backward_with_explicit_grad_for_non_scalar_output():
    x = leaf([1.0, 2.0, 3.0])
    y = x * x
    y.backward(np.array([1.0, 0.0, -1.0]))
    np.testing.assert_allclose(x.grad.data, [2.0, 0.0, -6.0])


def test_unused_leaf_gets_no_grad():
    x, unused = leaf([1.0]), leaf([2.0])
    (x * 2).sum().backward()
    assert unused.grad is None


def test_backward_from_a_leaf():
    x = leaf(3.0)
    x.backward()
    np.testing.assert_allclose(x.grad.data, 1.0)


# --- leaves, detach ----------------------------------------------------------------------

def test_leaf_and_non_leaf():
    x = leaf([1.0, 2.0])
    constant = Tensor(np.array([1.0, 2.0]))
    y = x * 2
    assert x.is_leaf and constant.is_leaf and not y.is_leaf
    assert y.requires_grad and not constant.requires_grad
    assert (constant * 2).is_leaf and not (constant * 2).requires_grad
    assert y.grad_fn is not None and y.grad_fn.name == "multiply"
    y.sum().backward()
    assert y.grad is None, "non-leaf tensors do not keep .grad"


def test_requires_grad_cannot_be_turned_off_on_a_non_leaf():
    y = leaf([1.0]) * 2
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad = False


def test_detach_shares_data_and_cuts_the_graph():
    x = leaf([1.0, 2.0])
    y = x * 3
    d = y.detach()
    assert d.is_leaf and not d.requires_grad
    assert np.shares_memory(d.data, y.data)
    z = (d * x).sum()
    z.backward()
    np.testing.assert_allclose(x.grad.data, y.data)


# --- grad mode ---------------------------------------------------------------------------

def test_no_grad_records_nothing_and_restores():
    x = leaf([1.0])
    assert ag.is_grad_enabled()
    with ag.no_grad():
        assert not ag.is_grad_enabled()
        y = x * 2
        with ag.enable_grad():
            assert ag.is_grad_enabled()
            z = x * 2
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf
    assert z.requires_grad and not z.is_leaf


def test_grad_mode_restored_after_an_exception():
    with pytest.raises(ValueError):
        with ag.no_grad():
            raise ValueError("boom")
    assert ag.is_grad_enabled()


def test_grad_mode_as_decorators():
    x = leaf([1.0])

    @ag.no_grad()
    def frozen(t):
        assert not ag.is_grad_enabled()
        return t * 2

    @ag.enable_grad()
    def tracked(t):
        return t * 2

    @ag.set_grad_enabled(False)
    def also_frozen(t):
        return t * 2

    assert not frozen(x).requires_grad
    assert not also_frozen(x).requires_grad
    with ag.no_grad():
        assert tracked(x).requires_grad
    assert ag.is_grad_enabled()


def test_set_grad_enabled_context():
    x = leaf([1.0])
    with ag.set_grad_enabled(False):
        assert not (x * 2).requires_grad
        with ag.set_grad_enabled(True):
            assert (x * 2).requires_grad
    assert (x * 2).requires_grad


def test_grad_mode_is_thread_local():
    x = leaf([1.0])
    inside_no_grad, may_finish = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with ag.no_grad():
            inside_no_grad.set()
            may_finish.wait(5)
            seen["worker_records"] = (x * 2).requires_grad

    thread = threading.Thread(target=worker)
    thread.start()
    assert inside_no_grad.wait(5)
    seen["main_enabled"] = ag.is_grad_enabled()
    seen["main_records"] = (x * 2).requires_grad
    may_finish.set()
    thread.join(5)
    assert seen == {"main_enabled": True, "main_records": True, "worker_records": False}


def test_new_thread_starts_with_grad_enabled():
    seen = []
    with ag.no_grad():
        thread = threading.Thread(target=lambda: seen.append(ag.is_grad_enabled()))
        thread.start()
        thread.join(5)
    assert seen == [True]


def test_backward_uses_the_arrays_as_recorded_even_if_data_is_rebound():
    w = ag.Tensor(np.array([2.0, 3.0]), requires_grad=True)
    x = ag.Tensor(np.array([5.0, 7.0]), requires_grad=True)
    y = (w * x).sum()
    x.data = np.array([100.0, 100.0])  # rebinding, not an in-place change: no version bump
    y.backward()
    np.testing.assert_array_equal(w.grad.data, [5.0, 7.0])
