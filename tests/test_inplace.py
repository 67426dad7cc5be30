"""In-place updates: values, version counting, and backward's check that saved values
were not changed after they were recorded."""
import numpy as np
import pytest

import autograd as ag
from autograd import Tensor
from autograd.op import Op, apply


def leaf(values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


def const(values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype))


# --- values and versions ---------------------------------------------------------------

@pytest.mark.parametrize("name, args, expected", [
    ("add_", (np.array([1.0, 2.0]),), [2.0, 4.0]),
    ("sub_", (np.array([1.0, 2.0]),), [0.0, 0.0]),
    ("mul_", (3.0,), [3.0, 6.0]),
    ("div_", (const([2.0, 4.0]),), [0.5, 0.5]),
    ("fill_", (7.0,), [7.0, 7.0]),
    ("zero_", (), [0.0, 0.0]),
    ("copy_", (np.array([5.0, 6.0]),), [5.0, 6.0]),
])
def test_in_place_methods_change_values_bump_version_and_return_self(name, args, expected):
    t = const([1.0, 2.0])
    data = t.data
    assert getattr(t, name)(*args) is t
    assert t.data is data, "an in-place method must write into the same array"
    np.testing.assert_array_equal(t.data, expected)
    assert t._version == 1


def test_add_and_sub_with_alpha_as_optimizers_use_them():
    p = const([1.0, 1.0])
    p.add_(np.array([2.0, 4.0]), alpha=-0.5)
    np.testing.assert_array_equal(p.data, [0.0, -1.0])
    p.sub_(const([1.0, 1.0]), alpha=2)
    np.testing.assert_array_equal(p.data, [-2.0, -3.0])
    assert p._version == 2


def test_setitem_with_ints_slices_masks_and_index_tensors():
    t = const(np.zeros((2, 3)))
    t[0] = 1.0
    t[:, 2] = np.array([5.0, 6.0])
    t[t.data == 0] = -1.0
    t[const([1], dtype=np.int64), const([0], dtype=np.int64)] = 9.0
    np.testing.assert_array_equal(t.data, [[1.0, 1.0, 5.0], [9.0, -1.0, 6.0]])
    assert t._version == 4


def test_augmented_operators_mutate_when_no_graph_is_involved():
    t = const([1.0, 2.0])
    data = t.data
    t += 1.0
    t -= const([0.5, 0.5])
    t *= 2.0
    t /= 4.0
    assert t.data is data and t._version == 4
    np.testing.assert_allclose(t.data, [0.75, 1.25])


def test_float32_stays_float32():
    t = const([1.0, 2.0], dtype=np.float32)
    t.add_(np.array([0.1, 0.2], dtype=np.float64))
    t *= 2.0
    t[0] = np.float64(3.0)
    assert t.dtype == np.float32


def test_bad_updates_are_clear_errors():
    ints = const([1, 2], dtype=np.int64)
    with pytest.raises(TypeError, match=r"div_: cannot store the float64 result in this int64"):
        ints.div_(2)
    with pytest.raises(ValueError, match=r"add_: a value of shape \(3,\) does not broadcast "
                                         r"to the tensor's shape \(2,\)"):
        const([1.0, 2.0]).add_(np.ones(3))
    with pytest.raises(ValueError, match="fill_: expected a scalar"):
        const([1.0, 2.0]).fill_(np.ones(2))
    with pytest.raises(ValueError, match=r"copy_: a value of shape \(3,\)"):
        const([1.0, 2.0]).copy_(np.ones(3))
    with pytest.raises(IndexError, match=r"setitem: index does not fit a tensor of shape \(2,\)"):
        const([1.0, 2.0])[5] = 1.0
    with pytest.raises(ValueError, match=r"setitem: a value of shape \(3,\)"):
        const([1.0, 2.0])[:] = np.ones(3)
    view = ag.broadcast_to(const([1.0]), (3,))
    with pytest.raises(ValueError, match="read-only"):
        view.add_(1.0)
    assert ints._version == 0, "a failed update must not bump the version"


# --- who may be changed in place --------------------------------------------------------

IN_PLACE = [
    ("add_", lambda t: t.add_(1.0)),
    ("sub_", lambda t: t.sub_(1.0)),
    ("mul_", lambda t: t.mul_(2.0)),
    ("div_", lambda t: t.div_(2.0)),
    ("zero_", lambda t: t.zero_()),
    ("fill_", lambda t: t.fill_(1.0)),
    ("copy_", lambda t: t.copy_(np.zeros(2))),
    ("setitem", lambda t: t.__setitem__(0, 1.0)),
    ("__iadd__", lambda t: t.__iadd__(1.0)),
    ("__imul__", lambda t: t.__imul__(2.0)),
]


@pytest.mark.parametrize("name, change", IN_PLACE)
def test_leaf_requiring_grad_cannot_change_in_place_outside_no_grad(name, change):
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"leaf tensor that requires grad cannot be modified "
                                           r"in place.*no_grad"):
        change(w)
    np.testing.assert_array_equal(w.data, [1.0, 2.0])
    assert w._version == 0


@pytest.mark.parametrize("name, change", IN_PLACE)
def test_inside_no_grad_a_leaf_may_change_in_place(name, change):
    w = leaf([1.0, 2.0])
    with ag.no_grad():
        change(w)
    assert w._version == 1 and w.requires_grad and w.is_leaf


def test_in_place_method_on_a_recorded_result_is_refused_naming_its_op():
    hidden = leaf([1.0, 2.0]).exp()
    with pytest.raises(RuntimeError, match="result of the recorded op 'exp'"):
        hidden.mul_(2.0)


def test_writing_a_value_that_requires_grad_into_a_constant_is_refused():
    buffer = const([0.0, 0.0])
    with pytest.raises(RuntimeError, match="the value requires grad"):
        buffer[0] = leaf(1.0)
    with pytest.raises(RuntimeError, match="the value requires grad"):
        buffer.add_(leaf([1.0, 1.0]))


def test_augmented_assignment_on_a_recorded_result_falls_back_to_out_of_place():
    x = leaf([1.0, 2.0])
    y = x * 3.0
    before = y
    y += 1.0
    y *= x
    assert y is not before and before.data.tolist() == [3.0, 6.0]
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 6 * x.data + 1)


def test_augmented_assignment_of_a_tracked_value_into_a_constant_is_out_of_place():
    x = leaf([1.0, 2.0])
    total = const([10.0, 10.0])
    original = total
    total += x * x
    assert total is not original and original._version == 0
    total.sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data)


# --- backward's version check -------------------------------------------------------

def test_modified_saved_input_makes_backward_raise_naming_the_op():
    w = leaf([1.0, 2.0])
    x = const([3.0, 4.0])
    loss = (w * x).sum()
    x.add_(1.0)
    with pytest.raises(RuntimeError, match=r"input 1 of op 'multiply' \(shape \(2,\)\) was "
                                           r"modified in place by add_ .* version 1"):
        loss.backward()


def test_unmodified_saved_tensors_give_the_correct_gradient():
    w = leaf([1.0, 2.0])
    x = const([3.0, 4.0])
    x.add_(1.0)                           # changed before recording: fine
    loss = (w * x).sum()
    unrelated = const([0.0])
    unrelated.add_(5.0)                   # the clock moves, but not for x or w
    loss.backward()
    np.testing.assert_array_equal(w.grad.data, [4.0, 5.0])


class Shift(Op):
    """x + 1 as an op that declares its VJP reads no values."""
    name = "shift"
    vjp_uses_values = False

    def forward(self, x):
        return x + 1.0

    def vjp(self, g, out, x):
        return (g,)


def test_modified_output_read_by_the_vjp_is_caught():
    x = leaf([0.0, 1.0])
    y = ag.exp(x)                         # exp's VJP reads its output
    loss = apply(Shift, (y,)).sum()       # shift reads nothing, so only exp can object
    with ag.no_grad():
        y.mul_(0.0)
    with pytest.raises(RuntimeError, match=r"output of op 'exp' .* modified in place by mul_"):
        loss.backward()


def test_setitem_and_no_grad_parameter_update_are_caught_on_a_retained_graph():
    w = leaf([1.0, 2.0])
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    with ag.no_grad():
        w[0] = 5.0                        # an optimizer step between two backwards
    with pytest.raises(RuntimeError, match=r"'multiply' .* by setitem"):
        loss.backward()


def test_op_whose_vjp_reads_no_values_is_not_flagged():
    w = leaf([1.0, 1.0])
    y = apply(Shift, (w * 2.0,))
    with ag.no_grad():
        y.add_(1.0)                       # shift's output, which its VJP never reads
    (g,) = ag.grad(y, w, grad_outputs=np.ones(2))
    np.testing.assert_array_equal(g.data, [2.0, 2.0])


def test_optimizer_loop_under_no_grad_works_step_after_step():
    w = leaf([1.0, -1.0])
    target = const([0.5, 0.5])
    for _ in range(3):
        loss = ((w - target) ** 2).sum()
        w.zero_grad()
        loss.backward()
        with ag.no_grad():
            w.sub_(w.grad, alpha=0.25)
    np.testing.assert_allclose(w.data, target.data + (np.array([1.0, -1.0]) - 0.5) * 0.5 ** 3)


def test_version_message_names_the_creation_line_in_anomaly_mode():
    w = leaf([1.0, 2.0])
    x = const([3.0, 4.0])
    with ag.detect_anomaly():
        loss = (w * x).sum()
        x.mul_(2.0)
        with pytest.raises(RuntimeError, match=r"created at .*test_inplace\.py:\d+"):
            loss.backward()


def test_bump_version_marks_a_change_made_through_the_array():
    w = leaf([1.0, 2.0])
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    with ag.no_grad():
        w.data -= 0.1 * w.grad.data       # how an optimizer may update the raw array
        ag.inplace.bump_version(w, "SGD.step")
    with pytest.raises(RuntimeError, match="modified in place by SGD.step"):
        loss.backward()


def test_a_change_of_an_unrelated_tensor_does_not_break_backward():
    w = leaf([1.0, 2.0])
    x = const([1.0])
    loss = (w * w).sum()
    x.add_(1.0)                           # moves the clock, so backward checks versions
    loss.backward()
    np.testing.assert_array_equal(w.grad.data, [2.0, 4.0])


def test_read_only_data_is_a_clear_error_for_every_kind_of_write():
    view = ag.broadcast_to(const([1.0]), (3,))
    for write in (lambda t: t.mul_(2.0), lambda t: t.copy_(np.zeros(3)),
                  lambda t: t.zero_(), lambda t: t.__setitem__(0, 1.0)):
        with pytest.raises(ValueError, match="read-only"):
            write(view)
    assert view._version == 0
