"""Tensor.register_hook and retain_grad."""
import numpy as np
import pytest

import autograd as ag
from autograd import Tensor


def leaf(values):
    return Tensor(np.array(values, dtype=np.float64), requires_grad=True)


def test_hook_sees_the_total_gradient_of_a_non_leaf():
    x = leaf([1.0, 2.0])
    hidden = x * 3.0
    seen = []
    hidden.register_hook(lambda g: seen.append(g.data.copy()))
    (hidden * hidden + hidden).sum().backward()
    np.testing.assert_allclose(seen[0], 2 * hidden.data + 1)
    np.testing.assert_allclose(x.grad.data, 3 * (2 * hidden.data + 1))


def test_hook_receives_a_tensor_that_tracks_no_grad():
    x = leaf([1.0])
    kinds = []
    x.register_hook(lambda g: kinds.append((type(g), g.requires_grad)))
    (x * 2).sum().backward()
    assert kinds == [(Tensor, False)]


def test_hook_may_replace_the_gradient_of_leaf_and_non_leaf():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g * 10)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 20 * x.data)

    x = leaf([1.0, 2.0])
    hidden = x * x
    hidden.register_hook(lambda g: np.zeros(2))          # an array also works
    (hidden * 5).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])


def test_hooks_run_in_registration_order_and_chain():
    x = leaf([1.0])
    order = []
    x.register_hook(lambda g: order.append("first") or g + 1)
    x.register_hook(lambda g: order.append("second") or g * 2)
    (x * 1.0).sum().backward()
    assert order == ["first", "second"]
    np.testing.assert_array_equal(x.grad.data, [4.0])


def test_removed_hook_is_not_called_and_remove_twice_is_harmless():
    x = leaf([1.0])
    calls = []
    handle = x.register_hook(lambda g: calls.append(1))
    handle.remove()
    handle.remove()
    (x * 2).sum().backward()
    assert calls == [] and x.grad.item() == 2.0


def test_handle_as_context_manager():
    x = leaf([1.0])
    with x.register_hook(lambda g: g * 0):
        (x * 2).sum().backward()
    assert x.grad.item() == 0.0
    x.zero_grad()
    (x * 2).sum().backward()
    assert x.grad.item() == 2.0


def test_hook_returning_the_wrong_shape_is_a_clear_error():
    x = leaf([1.0, 2.0, 3.0])

    def truncate(grad):
        return grad.data[:2]
    x.register_hook(truncate)
    with pytest.raises(ValueError, match=r"hook .*truncate returned a gradient of shape \(2,\), "
                                         r"but the tensor it is registered on has shape \(3,\)"):
        (x * 2).sum().backward()


def test_hook_returning_integers_is_a_clear_error():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: np.array([1, 2]))
    with pytest.raises(TypeError, match="dtype int64"):
        (x * 2).sum().backward()


def test_hook_replacement_is_cast_to_the_tensor_dtype():
    x = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    x.register_hook(lambda g: np.full(2, 0.5, dtype=np.float64))
    (x * 2).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.data.tolist() == [0.5, 0.5]


def test_hook_cannot_modify_its_argument_in_place():
    x, y = leaf([1.0]), leaf([2.0])
    x.register_hook(lambda g: g.zero_())
    with pytest.raises(ValueError, match="read-only"):
        (x + y).sum().backward()


def test_register_hook_needs_a_tensor_that_requires_grad_and_a_callable():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(np.ones(2)).register_hook(lambda g: g)
    with pytest.raises(TypeError, match="callable"):
        leaf([1.0]).register_hook(3)


def test_hooks_run_for_autograd_grad():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g * 3)
    (g,) = ag.grad((x * x).sum(), x)
    np.testing.assert_allclose(g.data, 6 * x.data)


def test_hook_under_create_graph_is_differentiated_too():
    x = leaf([1.0, 2.0])
    hidden = x * 1.0
    handle = hidden.register_hook(lambda g: g * hidden)  # g * hidden: recorded as an op
    (g,) = ag.grad((hidden ** 2).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.data, 2 * x.data ** 2)
    handle.remove()                  # or it would also act on the second backward
    (h,) = ag.grad(g.sum(), x)
    np.testing.assert_allclose(h.data, 4 * x.data)


def test_retain_grad_keeps_the_gradient_of_a_non_leaf():
    x = leaf([1.0, 2.0])
    hidden = x * 3.0
    other = x * 4.0
    hidden.retain_grad()
    assert hidden.retains_grad and not other.retains_grad
    (hidden * hidden + other).sum().backward()
    np.testing.assert_allclose(hidden.grad.data, 2 * hidden.data)
    assert other.grad is None


def test_retain_grad_sees_the_hooked_gradient_and_accumulates():
    x = leaf([1.0])
    hidden = x * 2.0
    hidden.retain_grad()
    hidden.register_hook(lambda g: g * 10)
    out = hidden * 1.0
    out.sum().backward(retain_graph=True)
    out.sum().backward()
    assert hidden.grad.item() == 20.0


def test_retain_grad_on_a_leaf_changes_nothing_and_needs_requires_grad():
    x = leaf([1.0])
    x.retain_grad()
    assert not x.retains_grad
    (x * 2).sum().backward()
    assert x.grad.item() == 2.0
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(np.ones(1)).retain_grad()
