"""Custom ops with autograd.Function: checked by gradcheck exactly like built-in ops."""
import numpy as np
import pytest
from hypothesis import given

import autograd as ag
import autograd.testing.strategies as strategies
from autograd import Tensor
from autograd.testing import GradcheckError, gradcheck, gradgradcheck
from custom_functions import Cube


class ScaledProduct(ag.Function):
    """scale * x * y with broadcasting; ``scale`` is a plain float argument."""

    @staticmethod
    def forward(ctx, x, y, scale):
        ctx.save_for_backward(x, y)
        ctx.scale = scale
        return scale * x * y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        grad_x = grad * ctx.scale * y if ctx.needs_input_grad[0] else None
        grad_y = grad * ctx.scale * x if ctx.needs_input_grad[1] else None
        return grad_x, grad_y, None


class WrongSecondInput(ScaledProduct):
    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return grad * ctx.scale * y, grad * x, None      # forgot the scale for y


class NumpyOnlySoftplus(ag.Function):
    """A backward that works on ndarrays only, marked as such."""

    @staticmethod
    def forward(ctx, x):
        out = np.logaddexp(0.0, x)
        ctx.save_for_backward(x)
        return out

    @staticmethod
    @ag.once_differentiable
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.exp(-np.logaddexp(0.0, -x))


def test_correct_function_passes_gradcheck_and_gradgradcheck():
    x = np.random.default_rng(0).standard_normal((2, 3))
    assert gradcheck(Cube.apply, x)
    assert gradgradcheck(Cube.apply, x)


def test_wrong_backward_is_caught_naming_the_input():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((2, 3)), rng.standard_normal(3)
    assert gradcheck(lambda a, b: ScaledProduct.apply(a, b, 2.5), x, y)
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(lambda a, b: WrongSecondInput.apply(a, b, 2.5), x, y)


def test_wrong_cube_backward_caught_for_input_0():
    class WrongCube(Cube):
        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 2 * x ** 2
    with pytest.raises(GradcheckError, match=r"input 0 .*analytic .*numerical"):
        gradcheck(WrongCube.apply, np.array([0.5, -1.5, 2.0]))


@given(strategies.elementwise(2, low=-2.0, high=2.0))
def test_custom_op_gradients_property(sample):
    (x, y), _ = sample
    assert gradcheck(lambda a, b: ScaledProduct.apply(a, b, -1.5), x, y)
    assert gradgradcheck(lambda a, b: ScaledProduct.apply(a, b, -1.5), x, y)


def test_forward_and_plain_backward_receive_ndarrays():
    seen = {}

    class Spy(ag.Function):
        @staticmethod
        def forward(ctx, x):
            seen["forward"] = type(x)
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            seen["backward"] = type(grad)
            seen["saved"] = type(ctx.saved_tensors[0])
            return grad * 2
    x = Tensor(np.ones(3), requires_grad=True)
    Spy.apply(x).sum().backward()
    assert seen == {"forward": np.ndarray, "backward": np.ndarray, "saved": np.ndarray}
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0, 2.0])


def test_create_graph_backward_receives_graph_tensors():
    seen = {}

    class Spy(Cube):
        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            seen["saved_is_input"] = x is inputs[0]
            return Cube.backward(ctx, grad)
    inputs = [Tensor(np.array([1.0, 2.0]), requires_grad=True)]
    (g,) = ag.grad(Spy.apply(inputs[0]).sum(), inputs[0], create_graph=True)
    assert seen["saved_is_input"] and g.requires_grad
    (h,) = ag.grad(g.sum(), inputs[0])
    np.testing.assert_allclose(h.data, 6 * inputs[0].data)


def test_needs_input_grad_reflects_which_inputs_require_grad():
    flags = []

    class Probe(ScaledProduct):
        @staticmethod
        def forward(ctx, x, y, scale):
            flags.append(ctx.needs_input_grad)
            return ScaledProduct.forward(ctx, x, y, scale)
    x = Tensor(np.ones(2), requires_grad=True)
    y = Tensor(np.ones(2))
    Probe.apply(x, y, 2.0).sum().backward()
    assert flags[-1] == (True, False, False)
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])
    with ag.no_grad():
        Probe.apply(x, y, 2.0)
    assert flags[-1] == (False, False, False)


def test_apply_on_plain_arrays_returns_an_array_and_records_nothing():
    out = Cube.apply(np.array([2.0]))
    assert isinstance(out, np.ndarray) and out[0] == 8.0
    out = Cube.apply(Tensor(np.array([2.0])))
    assert isinstance(out, Tensor) and not out.requires_grad


def test_custom_op_is_an_ordinary_graph_node():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = Cube.apply(x)
    assert y.grad_fn.name == "Cube" and y._inputs[0] is x and not y.is_leaf


def test_once_differentiable_backward_gives_first_but_refuses_second_derivatives():
    x = np.array([-1.0, 0.5, 2.0])
    assert gradcheck(NumpyOnlySoftplus.apply, x)
    with pytest.raises(RuntimeError, match="NumpyOnlySoftplus.backward is marked "
                                           "@once_differentiable"):
        gradgradcheck(NumpyOnlySoftplus.apply, x)


def test_backward_returning_the_wrong_number_of_gradients():
    class TooFew(ag.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, grad):
            return grad
    x = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(TypeError, match=r"TooFew.backward returned 1 gradient\(s\), but "
                                        r"forward took 2"):
        TooFew.apply(x, x).sum().backward()


def test_backward_returning_a_wrong_shape():
    class BadShape(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return np.ones(5)
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"BadShape.backward returned a gradient of shape "
                                         r"\(5,\) for argument 0, which has shape \(2, 3\)"):
        BadShape.apply(x).sum().backward()


def test_backward_may_return_the_broadcast_shape():
    class BroadcastAdd(ag.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, grad):
            return grad, grad
    rng = np.random.default_rng(2)
    assert gradcheck(BroadcastAdd.apply, rng.standard_normal((2, 3)), rng.standard_normal(3))


def test_forward_with_several_outputs_is_refused_clearly():
    class Pair(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x, x

    with pytest.raises(TypeError, match="Pair.forward returned 2 values"):
        Pair.apply(Tensor(np.ones(2), requires_grad=True))


def test_integer_output_is_not_differentiable():
    class ArgMax(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return np.argmax(x, axis=-1)
    out = ArgMax.apply(Tensor(np.array([[1.0, 3.0], [2.0, 0.0]]), requires_grad=True))
    assert not out.requires_grad
    np.testing.assert_array_equal(out.data, [1, 0])


def test_saved_arrays_are_freed_after_backward():
    x = Tensor(np.ones(3), requires_grad=True)
    y = Cube.apply(x)
    op = y.grad_fn
    y.sum().backward()
    assert not hasattr(op, "ctx")


def test_function_itself_cannot_be_applied():
    with pytest.raises(TypeError, match="subclass of Function"):
        ag.Function.apply(np.ones(2))
