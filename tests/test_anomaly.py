"""Anomaly mode: NaN/Inf in forward or backward is reported with the op, the input
shapes and the line of this file that created the op."""
import inspect
import os
import warnings

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor
from autograd import op as op_module
from autograd.grad_mode import state

THIS_FILE = os.path.basename(__file__)


def next_line():
    """The number of the caller's next line."""
    return inspect.currentframe().f_back.f_lineno + 1


@pytest.fixture(autouse=True)
def quiet_numpy():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def test_nan_made_in_forward_names_op_shapes_and_line():
    x = Tensor(np.array([[1.0, -2.0, 3.0]]), requires_grad=True)
    with ag.detect_anomaly():
        with pytest.raises(ag.AnomalyError) as info:
            line = next_line()
            ag.log(x * 2.0)
    message = str(info.value)
    assert "op 'log' produced NaN in its output (forward)" in message
    assert "input 0: shape (1, 3) float64" in message
    assert f"{THIS_FILE}:{line} in test_nan_made_in_forward_names_op_shapes_and_line" in message
    assert "ag.log(x * 2.0)" in message


def test_nan_made_only_in_backward_names_op_and_line():
    x = Tensor(np.array([0.0, 4.0]), requires_grad=True)
    with ag.detect_anomaly():
        line = next_line()
        root = ag.sqrt(x)
        loss = (root * 3.0).sum()          # forward is finite: sqrt(0) = 0
        with pytest.raises(ag.AnomalyError) as info:
            loss.backward()
    message = str(info.value)
    assert "the backward of op 'sqrt' produced Inf in the gradient of its input 0" in message
    assert "input 0: shape (2,) float64" in message
    assert f"{THIS_FILE}:{line} in test_nan_made_only_in_backward_names_op_and_line" in message


def test_inf_times_zero_in_backward_is_reported_as_nan_at_its_op():
    x = Tensor(np.array([0.0]), requires_grad=True)
    with ag.detect_anomaly():
        line = next_line()
        loss = (ag.sqrt(x) * 0.0).sum()
        with pytest.raises(ag.AnomalyError, match=rf"op 'sqrt' produced NaN(.|\n)*"
                                                  rf"{THIS_FILE}:{line}"):
            loss.backward()


def test_without_anomaly_mode_nan_passes_silently_and_nothing_is_captured():
    x = Tensor(np.array([0.0, -1.0]), requires_grad=True)
    out = ag.log(x)
    assert np.isnan(out.data[1])
    assert not hasattr(out.grad_fn, "creation_stack")
    ag.sqrt(x * x).sum().backward()     # gradient NaN, no error
    assert np.isnan(x.grad.data[0])


def test_normal_mode_never_calls_the_anomaly_hooks(monkeypatch):
    class Tripwire:
        def on_forward(self, *args):
            raise AssertionError("anomaly hook called outside anomaly mode")
    monkeypatch.setattr(op_module, "_anomaly_hooks", Tripwire())
    x = Tensor(np.ones(3), requires_grad=True)
    (ag.exp(x) * 2).sum().backward()


def test_creation_line_is_kept_for_ops_recorded_in_anomaly_mode():
    x = Tensor(np.ones(2), requires_grad=True)
    with ag.detect_anomaly():
        line = next_line()
        y = ag.tanh(x)
    assert f"{THIS_FILE}:{line}" in y.grad_fn.created_at
    assert y.grad_fn.creation_stack[-1].lineno == line


def test_backward_outside_anomaly_mode_of_a_graph_recorded_inside_it_works():
    x = Tensor(np.ones(2), requires_grad=True)
    with ag.detect_anomaly():
        y = (ag.exp(x) * 2).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * np.exp(1.0))


def test_backward_anomaly_for_an_op_recorded_before_anomaly_mode_says_so():
    x = Tensor(np.array([0.0]), requires_grad=True)
    loss = ag.sqrt(x).sum()
    with ag.detect_anomaly():
        with pytest.raises(ag.AnomalyError, match="created before anomaly mode was turned on"):
            loss.backward()


def test_mode_is_restored_and_works_as_decorator():
    assert not ag.is_anomaly_enabled()
    with ag.detect_anomaly():
        assert ag.is_anomaly_enabled()
        with ag.detect_anomaly():
            pass
        assert ag.is_anomaly_enabled()
    assert not ag.is_anomaly_enabled()

    @ag.detect_anomaly()
    def inside():
        return ag.is_anomaly_enabled()
    assert inside() and not ag.is_anomaly_enabled()
    with pytest.raises(ag.AnomalyError):
        with ag.detect_anomaly():
            ag.log(Tensor(np.array([-1.0]), requires_grad=True))
    assert not state.anomaly


def test_set_detect_anomaly():
    ag.set_detect_anomaly(True)
    try:
        with pytest.raises(ag.AnomalyError):
            ag.log(Tensor(np.array([-1.0]), requires_grad=True))
    finally:
        ag.set_detect_anomaly(False)
    assert not ag.is_anomaly_enabled()


def test_check_forward_off_allows_deliberate_inf_but_still_checks_backward():
    x = Tensor(np.array([0.0, 1.0]), requires_grad=True)
    with ag.detect_anomaly(check_forward=False):
        masked = ag.log(x)                      # -inf on purpose
        assert np.isinf(masked.data[0])
        with pytest.raises(ag.AnomalyError, match="backward of op 'log'"):
            masked.sum().backward()


def test_input_that_already_holds_nan_is_pointed_out():
    x = Tensor(np.array([np.nan, 1.0]), requires_grad=True)
    with ag.detect_anomaly():
        with pytest.raises(ag.AnomalyError, match="input 0: shape \\(2,\\) float64, already "
                                                  "contains NaN"):
            ag.exp(x)


def test_nan_gradient_passed_to_backward_is_reported():
    x = Tensor(np.ones(2), requires_grad=True)
    with ag.detect_anomaly():
        y = x * 2
        with pytest.raises(ag.AnomalyError, match="gradient passed to backward"):
            y.backward(np.array([np.nan, 1.0]))


def test_hook_returning_nan_is_reported():
    x = Tensor(np.ones(2), requires_grad=True)
    x.register_hook(lambda g: g * np.nan)
    with ag.detect_anomaly():
        with pytest.raises(ag.AnomalyError, match="hook"):
            (x * 2).sum().backward()


def test_custom_function_is_checked_like_a_builtin():
    class BadGrad(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, grad):
            return grad / 0.0
    x = Tensor(np.ones(2), requires_grad=True)
    with ag.detect_anomaly():
        line = next_line()
        y = BadGrad.apply(x).sum()
        with pytest.raises(ag.AnomalyError, match=rf"backward of op 'BadGrad'(.|\n)*"
                                                  rf"{THIS_FILE}:{line}"):
            y.backward()


def test_create_graph_backward_is_checked_too():
    x = Tensor(np.array([0.0, 1.0]), requires_grad=True)
    with ag.detect_anomaly():
        y = ag.sqrt(x).sum()
        with pytest.raises(ag.AnomalyError, match="backward of op 'sqrt'"):
            ag.grad(y, x, create_graph=True)


def test_error_raised_inside_a_vjp_names_the_op():
    class Broken(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, grad):
            raise KeyError("oops")
    x = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(KeyError) as info:
        Broken.apply(x).sum().backward()
    assert any("backward of op 'Broken'" in note for note in info.value.__notes__)
