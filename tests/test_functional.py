"""autograd.grad and the JAX-style transforms of autograd.functional.

Property tests draw random float64 functions of two arguments built from several ops,
and compare jacobian/hessian/jvp/vjp/hvp with finite differences and with
torch.autograd.functional on the same function written in PyTorch.
"""
import inspect

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import autograd as ag
from autograd import Tensor
from autograd import functional as F
from autograd.op import REGISTRY, Op
import autograd.testing.strategies as ags
from custom_functions import Cube

# --- random functions, written once for both libraries ----------------------------------

# name -> (ours, torch); all smooth everywhere, so finite differences are reliable.
UNARY = {
    "sin": (ag.sin, torch.sin),
    "cos": (ag.cos, torch.cos),
    "tanh": (ag.tanh, torch.tanh),
    "sigmoid": (ag.sigmoid, torch.sigmoid),
    "softplus": (ag.softplus, torch.nn.functional.softplus),
    "square": (lambda x: x * x, lambda x: x * x),
    "cube": (lambda x: x ** 3, lambda x: x ** 3),
    "affine": (lambda x: 0.5 * x - 0.25, lambda x: 0.5 * x - 0.25),
    "exp_of_tanh": (lambda x: ag.exp(ag.tanh(x)), lambda x: torch.exp(torch.tanh(x))),
}
COMBINE = {
    "mul": lambda x, y: x * y,
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "div": lambda x, y: x / (1.0 + y * y),
}
LIBRARY = {"ours": 0, "torch": 1}


@st.composite
def programs(draw):
    chain = st.lists(st.sampled_from(sorted(UNARY)), min_size=1, max_size=3).map(tuple)
    return (draw(chain), draw(chain), draw(st.sampled_from(sorted(COMBINE))),
            draw(st.sampled_from(["sum", "mean"])))


def build(program, library, scalar):
    chain_x, chain_y, combine, reduction = program
    which = LIBRARY[library]

    def function(x, y):
        for name in chain_x:
            x = UNARY[name][which](x)
        for name in chain_y:
            y = UNARY[name][which](y)
        out = COMBINE[combine](x, y)
        return getattr(out, reduction)() if scalar else out
    return function


@st.composite
def problems(draw, scalar):
    """A random program and two float64 arguments of broadcastable shapes."""
    shape_x, shape_y = draw(ags.broadcastable_shapes(2, max_dims=2, max_side=3))
    x = draw(ags.arrays(shape_x, low=-2.0, high=2.0))
    y = draw(ags.arrays(shape_y, low=-2.0, high=2.0))
    return draw(programs()), x, y


def torch_inputs(*arrays):
    return tuple(torch.tensor(a, dtype=torch.float64) for a in arrays)


def close(ours, expected, rtol=1e-6, atol=1e-8):
    ours = ours.data if isinstance(ours, Tensor) else np.asarray(ours)
    expected = expected.detach().numpy() if isinstance(expected, torch.Tensor) else expected
    assert ours.shape == np.shape(expected), (ours.shape, np.shape(expected))
    np.testing.assert_allclose(ours, expected, rtol=rtol, atol=atol)


def fd_jacobian(function, args, position, eps=1e-6):
    """Central-difference Jacobian of ``function`` (ndarrays in and out), shape O + I."""
    args = [np.array(a, dtype=np.float64) for a in args]
    base = np.asarray(function(*args))
    x = args[position]
    columns = []
    for index in range(x.size):
        original = x.flat[index]
        x.flat[index] = original + eps
        plus = np.asarray(function(*args), dtype=np.float64)
        x.flat[index] = original - eps
        minus = np.asarray(function(*args), dtype=np.float64)
        x.flat[index] = original
        columns.append((plus - minus) / (2 * eps))
    return np.stack(columns, axis=-1).reshape(base.shape + x.shape)


def values_of(function):
    """``function`` on ndarrays, without recording anything."""
    def plain(*arrays):
        with ag.no_grad():
            return function(*[Tensor(a) for a in arrays]).data
    return plain


# --- property tests against PyTorch and finite differences ------------------------------

@given(problems(scalar=False))
def test_jacobian_matches_torch_and_finite_differences(problem):
    program, x, y = problem
    ours = F.jacobian(build(program, "ours", False), argnums=(0, 1))(x, y)
    expected = torch.autograd.functional.jacobian(build(program, "torch", False),
                                                  torch_inputs(x, y))
    for position in range(2):
        close(ours[position], expected[position])
        fd = fd_jacobian(values_of(build(program, "ours", False)), (x, y), position)
        close(ours[position], fd, rtol=1e-4, atol=1e-6)


@given(problems(scalar=True))
def test_hessian_matches_torch_and_finite_differences(problem):
    program, x, y = problem
    f = build(program, "ours", True)
    ours = F.hessian(f, argnums=(0, 1))(x, y)
    expected = torch.autograd.functional.hessian(build(program, "torch", True),
                                                 torch_inputs(x, y))
    for i in range(2):
        for j in range(2):
            close(ours[i][j], expected[i][j])
    # Finite differences of the (separately gradchecked) first derivative.
    for i in range(2):
        gradient_i = lambda a, b, i=i: F.grad(f, argnums=i)(a, b).data  # noqa: E731
        for j in range(2):
            close(ours[i][j], fd_jacobian(gradient_i, (x, y), j), rtol=1e-4, atol=1e-6)


@given(problems(scalar=True), st.data())
def test_hvp_matches_torch_and_the_hessian(problem, data):
    program, x, y = problem
    vx = data.draw(ags.arrays(x.shape))
    vy = data.draw(ags.arrays(y.shape))
    f = build(program, "ours", True)
    value, (hx, hy) = F.hvp(f, (x, y), (vx, vy))
    t_value, (t_hx, t_hy) = torch.autograd.functional.hvp(
        build(program, "torch", True), torch_inputs(x, y), torch_inputs(vx, vy))
    close(value, t_value)
    close(hx, t_hx)
    close(hy, t_hy)
    hxx, hxy = F.hessian(f, argnums=(0, 1))(x, y)[0]
    fd_hx = fd_jacobian(lambda a, b: np.sum(F.grad(f)(a, b).data * vx)
                        + np.sum(F.grad(f, argnums=1)(a, b).data * vy), (x, y), 0)
    close(hx, fd_hx, rtol=1e-4, atol=1e-6)
    expected = (hxx.data.reshape(x.size, x.size) @ vx.reshape(-1)
                + hxy.data.reshape(x.size, y.size) @ vy.reshape(-1))
    close(hx, expected.reshape(x.shape))


@given(problems(scalar=False), st.data())
def test_jvp_matches_torch_and_finite_differences(problem, data):
    program, x, y = problem
    tx = data.draw(ags.arrays(x.shape))
    ty = data.draw(ags.arrays(y.shape))
    f = build(program, "ours", False)
    out, tangent = F.jvp(f, (x, y), (tx, ty))
    t_out, t_tangent = torch.autograd.functional.jvp(
        build(program, "torch", False), torch_inputs(x, y), torch_inputs(tx, ty))
    close(out, t_out)
    close(tangent, t_tangent)
    eps = 1e-6
    plain = values_of(f)
    fd = (plain(x + eps * tx, y + eps * ty) - plain(x - eps * tx, y - eps * ty)) / (2 * eps)
    close(tangent, fd, rtol=1e-4, atol=1e-6)


@given(problems(scalar=False), st.data())
def test_vjp_matches_torch(problem, data):
    program, x, y = problem
    f = build(program, "ours", False)
    out, vjp_fn = F.vjp(f, x, y)
    cotangent = data.draw(ags.arrays(out.shape))
    gx, gy = vjp_fn(cotangent)
    t_out, (t_gx, t_gy) = torch.autograd.functional.vjp(
        build(program, "torch", False), torch_inputs(x, y), torch.tensor(cotangent))
    close(out, t_out)
    close(gx, t_gx)
    close(gy, t_gy)
    again = vjp_fn(2 * cotangent)
    close(again[0], 2 * t_gx)


# --- second derivatives of every twice-differentiable elementwise op --------------------

def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# op name -> (scalar function of a Tensor, its analytic second derivative, domain)
SECOND_DERIVATIVES = {
    "add": (lambda x: x + x * x, lambda x: 2.0, (-3, 3)),
    "subtract": (lambda x: x * x - x, lambda x: 2.0, (-3, 3)),
    "multiply": (lambda x: x * x * x, lambda x: 6 * x, (-3, 3)),
    "divide": (lambda x: 1.0 / x, lambda x: 2 / x ** 3, (0.5, 3)),
    "power": (lambda x: x ** 3.5, lambda x: 3.5 * 2.5 * x ** 1.5, (0.5, 3)),
    "negative": (lambda x: -(x * x), lambda x: -2.0, (-3, 3)),
    "exp": (ag.exp, np.exp, (-3, 3)),
    "log": (ag.log, lambda x: -1 / x ** 2, (0.2, 5)),
    "log1p": (ag.log1p, lambda x: -1 / (1 + x) ** 2, (-0.8, 5)),
    "sqrt": (ag.sqrt, lambda x: -0.25 * x ** -1.5, (0.2, 5)),
    "abs": (lambda x: ag.abs(x) ** 3, lambda x: 6 * np.abs(x), (0.1, 3)),
    "sin": (ag.sin, lambda x: -np.sin(x), (-3, 3)),
    "cos": (ag.cos, lambda x: -np.cos(x), (-3, 3)),
    "tanh": (ag.tanh, lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2), (-3, 3)),
    "sigmoid": (ag.sigmoid,
                lambda x: _sigmoid(x) * (1 - _sigmoid(x)) * (1 - 2 * _sigmoid(x)), (-6, 6)),
    "relu": (lambda x: ag.relu(x) ** 2, lambda x: 2.0 * (x > 0), (-3, 3)),
    "softplus": (ag.softplus, lambda x: _sigmoid(x) * (1 - _sigmoid(x)), (-6, 6)),
    "clip": (lambda x: ag.clip(x, -1.0, 1.0) ** 2, lambda x: 2.0 * (np.abs(x) < 1), (-3, 3)),
    "maximum": (lambda x: ag.maximum(x, 0.5) ** 2, lambda x: 2.0 * (x > 0.5), (-3, 3)),
    "minimum": (lambda x: ag.minimum(x, 0.5) ** 2, lambda x: 2.0 * (x < 0.5), (-3, 3)),
    "where": (lambda x: ag.where(x.data > 0, x ** 3, -x), lambda x: 6 * x * (x > 0), (-3, 3)),
}
KINKS = {"abs": 0.0, "relu": 0.0, "clip": 1.0, "maximum": 0.5, "minimum": 0.5, "where": 0.0}


@pytest.mark.parametrize("name", sorted(SECOND_DERIVATIVES))
@given(data=st.data())
def test_grad_of_grad_is_the_analytic_second_derivative(name, data):
    function, second, (low, high) = SECOND_DERIVATIVES[name]
    avoid = (KINKS[name], -KINKS[name]) if name in KINKS else ()
    x = data.draw(ags.elements(low, high, avoid=avoid, margin=0.05))
    ours = F.grad(F.grad(function))(np.float64(x))
    np.testing.assert_allclose(ours.data, second(x), rtol=1e-7, atol=1e-9)


def test_every_differentiable_unary_elementwise_op_has_a_second_derivative_test():
    from autograd.ops import elementwise
    missing = []
    for name, entry in REGISTRY.items():
        op = entry.op
        if op is None or op.__module__ != elementwise.__name__ or not entry.differentiable:
            continue
        if name in SECOND_DERIVATIVES or name == "astype":
            continue
        missing.append(name)
    assert not missing, f"add these ops to SECOND_DERIVATIVES: {missing}"


# --- composition -----------------------------------------------------------------------

def test_grad_composes_to_any_order():
    x = np.float64(0.7)
    third = F.grad(F.grad(F.grad(ag.sin)))(x)
    np.testing.assert_allclose(third.data, -np.cos(x))


def test_inner_grad_differentiates_only_its_own_argument():
    # d/dx [ d/dy (x * y) at y = x ] = d/dx x = 1 (perturbation confusion would give 2).
    outer = F.grad(lambda x: F.grad(lambda y: x * y)(x))(np.float64(3.0))
    assert outer.item() == pytest.approx(1.0)


def test_hessian_is_jacobian_of_grad():
    def f(x):
        return (x ** 3).sum() + x.sum() ** 2 * ag.sin(x).sum()
    x = np.array([0.3, -1.2, 2.0])
    close(F.hessian(f)(x), F.jacobian(F.grad(f))(x))


def test_gradient_stays_differentiable_with_respect_to_closed_over_parameters():
    # Gradient penalty: the input gradient depends on w, and backward reaches w.
    w = Tensor(np.array([0.5, -1.5]), requires_grad=True)
    x = np.array([1.0, 2.0])
    g = F.grad(lambda x: (ag.tanh(x * w)).sum())(x)
    assert g.requires_grad
    (g * g).sum().backward()
    tw = torch.tensor(w.data, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    (tg,) = torch.autograd.grad(torch.tanh(tx * tw).sum(), tx, create_graph=True)
    (tg * tg).sum().backward()
    close(w.grad, tw.grad)


def test_transforms_record_nothing_outside_and_work_under_no_grad():
    x = Tensor(np.array([1.0, 2.0]))
    with ag.no_grad():
        g = F.grad(lambda x: (x * x).sum())(x)
    close(g, 2 * x.data)
    assert not g.requires_grad and not x.requires_grad and x.grad is None


def test_value_and_grad_with_tuple_argnums_and_aux():
    def loss(w, b, x):
        out = (x * w + b) ** 2
        return out.sum(), {"mean": out.mean()}
    w, b, x = np.array([1.0, -2.0]), np.array(0.5), np.array([3.0, 4.0])
    (value, aux), (gw, gb) = F.value_and_grad(loss, argnums=(0, 1), has_aux=True)(w, b, x)
    residual = x * w + b
    close(value, np.sum(residual ** 2))
    close(aux["mean"], np.mean(residual ** 2))
    close(gw, 2 * residual * x)
    close(gb, np.sum(2 * residual))
    (gw_only, aux_only) = F.grad(loss, has_aux=True)(w, b, x)
    close(gw_only, 2 * residual * x)


def test_unused_argument_gets_zero_gradient_and_negative_argnums_work():
    g = F.grad(lambda x, y: (x * 2).sum(), argnums=-1)(np.ones(2), np.ones(3))
    close(g, np.zeros(3))


def test_gradient_keeps_float32():
    g = F.grad(lambda x: (x * x).sum())(np.ones(3, dtype=np.float32))
    assert g.dtype == np.float32


def test_jacobian_of_tuple_output_and_of_a_constant_output():
    x = np.array([1.0, 2.0])
    j_square, j_sin = F.jacobian(lambda x: (x * x, ag.sin(x)))(x)
    close(j_square, np.diag(2 * x))
    close(j_sin, np.diag(np.cos(x)))
    close(F.jacobian(lambda x: Tensor(np.ones(3)))(x), np.zeros((3, 2)))


def test_hessian_of_custom_function_built_from_autograd_ops():
    x = np.array([0.5, -2.0])
    close(F.hessian(lambda x: Cube.apply(x).sum())(x), np.diag(6 * x))


# --- errors ----------------------------------------------------------------------------

def test_argnums_out_of_range_is_a_clear_error():
    with pytest.raises(ValueError, match=r"argnums 2 is out of range .* 2 positional"):
        F.grad(lambda x, y: (x * y).sum(), argnums=2)(np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match="argnums -3 is out of range"):
        F.jacobian(lambda x, y: x * y, argnums=(0, -3))(np.ones(2), np.ones(2))


def test_argnums_of_the_wrong_type_or_repeated():
    with pytest.raises(TypeError, match="argnums must be an int"):
        F.grad(lambda x: x.sum(), argnums=1.0)(np.ones(2))
    with pytest.raises(ValueError, match="repeats"):
        F.grad(lambda x, y: (x * y).sum(), argnums=(0, 0))(np.ones(2), np.ones(2))


def test_non_scalar_output_to_grad_is_a_clear_error():
    def square(x):
        return x * x
    with pytest.raises(ValueError, match=r"square must return a scalar .* shape \(3,\)"):
        F.grad(square)(np.ones(3))
    with pytest.raises(ValueError, match="has_aux=True"):
        F.grad(lambda x: (x.sum(), x.sum()))(np.ones(3))


def test_integer_argument_cannot_be_differentiated():
    with pytest.raises(TypeError, match=r"argument 0 has dtype int64"):
        F.grad(lambda x: (x * 2.0).sum())(np.array([1, 2]))


def test_tangents_must_match_primals():
    with pytest.raises(ValueError, match=r"tangent 0 has shape \(3,\), but primal 0 has shape"):
        F.jvp(lambda x: x * x, (np.ones(2),), (np.ones(3),))
    with pytest.raises(ValueError, match="1 tangent"):
        F.hvp(lambda x, y: (x * y).sum(), (np.ones(2), np.ones(2)), (np.ones(2),))
    with pytest.raises(TypeError, match=r"primals must be a tuple"):
        F.jvp(lambda x: x * x, np.ones(2), np.ones(2))
    _, vjp_fn = F.vjp(lambda x: x * x, np.ones(2))
    with pytest.raises(ValueError, match=r"cotangent 0 has shape \(3,\), but output 0"):
        vjp_fn(np.ones(3))


# --- autograd.grad -------------------------------------------------------------------

def leaf(values):
    return Tensor(np.array(values, dtype=np.float64), requires_grad=True)


def test_ag_grad_returns_gradients_and_leaves_dot_grad_alone():
    x, w = leaf([1.0, 2.0]), leaf([3.0, -1.0])
    y = (x * w).sum()
    gx, gw = ag.grad(y, [x, w])
    close(gx, w.data)
    close(gw, x.data)
    assert x.grad is None and w.grad is None
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        ag.grad(y, x)


def test_ag_grad_with_grad_outputs_and_several_outputs():
    x = leaf([1.0, 2.0])
    a, b = x * 3.0, x * x
    (g,) = ag.grad([a, b], x, grad_outputs=[np.array([1.0, 0.0]), np.array([0.0, 1.0])])
    close(g, [3.0, 4.0])


def test_ag_grad_create_graph_gives_second_derivatives():
    x = leaf([0.5, 1.5])
    (g,) = ag.grad((x ** 3).sum(), x, create_graph=True)
    assert g.requires_grad
    (h,) = ag.grad(g.sum(), x)
    close(h, 6 * x.data)


def test_ag_grad_of_a_non_leaf_input():
    x = leaf([1.0, 2.0])
    hidden = x * 2.0
    (g,) = ag.grad((hidden ** 2).sum(), hidden)
    close(g, 2 * hidden.data)


def test_ag_grad_unused_input_names_it_unless_allowed():
    x, unused = leaf([1.0]), leaf([2.0, 3.0])
    with pytest.raises(ValueError, match=r"input 1 \(shape \(2,\)\) was not used.*allow_unused"):
        ag.grad((x * 2).sum(), [x, unused], retain_graph=True)
    gx, gu = ag.grad((x * 2).sum(), [x, unused], allow_unused=True)
    close(gx, [2.0])
    assert gu is None


def test_ag_grad_bad_arguments():
    x = leaf([1.0])
    with pytest.raises(TypeError, match="input 0 must be a Tensor"):
        ag.grad((x * 2).sum(), np.ones(1))
    with pytest.raises(ValueError, match="does not require grad"):
        ag.grad((x * 2).sum(), Tensor(np.ones(1)))
    with pytest.raises(RuntimeError, match="output 0 .* does not require grad"):
        ag.grad(Tensor(np.ones(1)).sum(), x)
    with pytest.raises(ValueError, match="2 grad_outputs for 1 outputs"):
        ag.grad(x * 2, x, grad_outputs=[np.ones(1), np.ones(1)])


def test_ag_grad_results_do_not_share_memory():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    gx, gy = ag.grad((x + y).sum(), [x, y])
    with ag.no_grad():
        gx.add_(10.0)
    close(gy, [1.0, 1.0])


def test_ag_grad_visits_only_the_part_of_the_graph_it_needs():
    calls = []

    class Spy(Op):
        name = "spy"

        def forward(self, x):
            return x

        def vjp(self, g, out, x):
            calls.append(1)
            return (g,)
    from autograd.op import apply
    x = leaf([1.0, 2.0])
    behind = apply(Spy, (x,))          # upstream of the input we ask about
    middle = behind * 3.0
    (g,) = ag.grad((middle * middle).sum(), middle)
    close(g, 2 * middle.data)
    assert calls == [], "backward ran an op that lies behind the requested input"


def test_public_names_documented():
    for function in (F.grad, F.value_and_grad, F.jacobian, F.hessian, F.vjp, F.jvp, F.hvp,
                     ag.grad):
        assert inspect.getdoc(function)
    assert "double-VJP" in F.jvp.__doc__
