"""Forward mode, jacfwd/jacrev, vmap and their compositions against ``torch.func`` and
finite differences, on random float64 functions composed of several ops; and the
errors of bad ``vmap`` input.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd as ag
from autograd import Tensor, functional as F
from autograd.vmap import BatchedTensor

from custom_functions import Cube

SETTINGS = settings(max_examples=10, deadline=None)

# Programs written once for both libraries: only operators and methods both have.
PROGRAMS = {
    "elementwise": (lambda x, y: ((x * y).sin() + x.exp() / (1.0 + y * y)).sum(-1),
                    lambda n, k, m: ((n, k), (n, k))),
    "matmul_tanh": (lambda x, y: (x @ y).tanh() * 2.0 - x.sum(-1, keepdims=True),
                    lambda n, k, m: ((n, k), (k, m))),
    "reduce_chain": (lambda x, y: ((x.tanh() @ y).exp().mean(0) + (y * y).sum(0)),
                     lambda n, k, m: ((n, k), (k, m))),
    "shape_ops": (lambda x, y: (x.T @ x).reshape(-1) * y.reshape(-1)[:1].sum(),
                  lambda n, k, m: ((n, k), (m,))),
}


def torch_function(program):
    torch = pytest.importorskip("torch")

    def call(*args):
        return program(*[a if isinstance(a, torch.Tensor) else torch.as_tensor(a) for a in args])
    return torch, call


def close(ours, expected, rtol=1e-9, atol=1e-10):
    expected = expected.detach().numpy() if hasattr(expected, "detach") else expected
    np.testing.assert_allclose(np.asarray(ours.data if isinstance(ours, Tensor) else ours),
                               np.asarray(expected), rtol=rtol, atol=atol)


@st.composite
def problems(draw):
    name = draw(st.sampled_from(sorted(PROGRAMS)))
    program, shapes = PROGRAMS[name]
    sizes = [draw(st.integers(1, 3)) for _ in range(3)]
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    args = [rng.standard_normal(shape) for shape in shapes(*sizes)]
    tangents = [rng.standard_normal(a.shape) for a in args]
    return name, program, args, tangents, rng


def finite_difference(f, args, tangents, eps=1e-6):
    plus = f(*[Tensor(a + eps * t) for a, t in zip(args, tangents)]).data
    minus = f(*[Tensor(a - eps * t) for a, t in zip(args, tangents)]).data
    return (plus - minus) / (2 * eps)


@SETTINGS
@given(problems())
def test_jvp_matches_torch_func_and_finite_differences(problem):
    _, program, args, tangents, _ = problem
    torch, torch_program = torch_function(program)
    out, tangent = F.jvp(program, tuple(args), tuple(tangents))
    t_out, t_tangent = torch.func.jvp(torch_program, tuple(map(torch.as_tensor, args)),
                                      tuple(map(torch.as_tensor, tangents)))
    close(out, t_out)
    close(tangent, t_tangent)
    close(tangent, finite_difference(program, args, tangents), rtol=1e-5, atol=1e-6)


@SETTINGS
@given(problems())
def test_jacfwd_and_jacrev_match_torch_func(problem):
    _, program, args, _, _ = problem
    torch, torch_program = torch_function(program)
    expected = torch.func.jacrev(torch_program, argnums=(0, 1))(*map(torch.as_tensor, args))
    for transform in (F.jacfwd, F.jacrev, F.jacobian):
        ours = transform(program, argnums=(0, 1))(*map(Tensor, args))
        for mine, theirs in zip(ours, expected):
            close(mine, theirs)


@SETTINGS
@given(problems())
def test_hessian_is_jacfwd_of_jacrev_and_matches_torch_func(problem):
    _, program, args, tangents, _ = problem
    torch, torch_program = torch_function(program)

    def scalar(x, y):
        return (program(x, y) ** 2).sum()
    ours = F.hessian(scalar, argnums=(0, 1))(*map(Tensor, args))
    expected = torch.func.hessian(lambda x, y: (torch_program(x, y) ** 2).sum(),
                                  argnums=(0, 1))(*map(torch.as_tensor, args))
    for i in range(2):
        for j in range(2):
            close(ours[i][j], expected[i][j], rtol=1e-8, atol=1e-9)
    # forward over reverse: the Hessian-vector product without the Hessian
    value, products = F.hvp(scalar, tuple(args), tuple(tangents))
    for i, product in enumerate(products):
        expected_product = sum(np.tensordot(np.asarray(ours[i][j].data), tangents[j],
                                            axes=tangents[j].ndim) for j in range(2))
        close(product, expected_product, rtol=1e-8, atol=1e-9)


@SETTINGS
@given(problems(), st.integers(1, 3), st.integers(0, 1))
def test_vmap_matches_torch_func_and_the_loop(problem, size, axis):
    _, program, args, _, rng = problem
    torch, torch_program = torch_function(program)
    batch = np.stack([args[0] + rng.standard_normal(args[0].shape) for _ in range(size)],
                     axis=axis)
    ours = F.vmap(program, in_axes=(axis, None))(batch, args[1])
    expected = torch.func.vmap(torch_program, in_dims=(axis, None))(
        torch.as_tensor(batch), torch.as_tensor(args[1]))
    close(ours, expected)
    for index in range(size):
        close(ours[index], program(Tensor(np.take(batch, index, axis=axis)), Tensor(args[1])))


@SETTINGS
@given(problems(), st.integers(1, 3))
def test_per_example_gradients_vmap_of_grad_match_torch_func(problem, size):
    _, program, args, _, rng = problem
    torch, torch_program = torch_function(program)
    xs = np.stack([args[0] + rng.standard_normal(args[0].shape) for _ in range(size)])

    def loss(y, x):  # y is shared (a parameter), x one example
        return (program(x, y) ** 2).sum()
    ours = F.vmap(F.grad(loss), in_axes=(None, 0))(args[1], xs)
    expected = torch.func.vmap(torch.func.grad(lambda y, x: (torch_program(x, y) ** 2).sum()),
                               in_dims=(None, 0))(torch.as_tensor(args[1]), torch.as_tensor(xs))
    close(ours, expected)
    assert ours.shape == (size,) + args[1].shape


@SETTINGS
@given(problems(), st.integers(1, 3))
def test_vmap_and_jvp_compose_both_ways(problem, size):
    _, program, args, tangents, rng = problem
    torch, torch_program = torch_function(program)
    xs = np.stack([args[0] + rng.standard_normal(args[0].shape) for _ in range(size)])
    ts = np.stack([rng.standard_normal(args[0].shape) for _ in range(size)])

    def tangent_of(x, t):
        return F.jvp(lambda a: program(a, args[1]), (x,), (t,))[1]

    def torch_tangent_of(x, t):
        return torch.func.jvp(lambda a: torch_program(a, torch.as_tensor(args[1])), (x,), (t,))[1]
    expected = torch.func.vmap(torch_tangent_of)(torch.as_tensor(xs), torch.as_tensor(ts))
    close(F.vmap(tangent_of)(xs, ts), expected)
    # jvp of vmap: the tangent of the batched function
    _, batched_tangent = F.jvp(F.vmap(lambda a: program(a, args[1])), (xs,), (ts,))
    close(batched_tangent, expected)


def test_vmap_passes_keyword_arguments_unchanged():
    x = np.arange(12.0).reshape(2, 3, 2)
    close(F.vmap(lambda row, axis: row.sum(axis=axis))(x, axis=0), x.sum(axis=1))


def test_nested_vmap_matches_the_double_loop():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 4, 5)), rng.standard_normal((5, 2))
    ours = F.vmap(F.vmap(lambda row, w: (row @ w).tanh().sum(), in_axes=(0, None)),
                  in_axes=(1, None))(x, w)
    expected = np.array([[np.tanh(x[i, j] @ w).sum() for i in range(3)] for j in range(4)])
    close(ours, expected)


def test_jvp_runs_the_function_once_and_keeps_float32():
    calls = []

    def f(x):
        calls.append(1)
        return (x * x).sin().sum()
    x = np.linspace(-1, 1, 6).astype(np.float32)
    out, tangent = F.jvp(f, (x,), (np.ones(6, dtype=np.float32),))
    assert len(calls) == 1, "forward mode must take one forward pass"
    assert out.dtype == tangent.dtype == np.float32
    close(tangent, (np.cos(x * x) * 2 * x).sum(), rtol=1e-5, atol=1e-6)


def test_jacfwd_of_jacfwd_and_jacrev_of_jvp():
    x = np.array([0.3, -1.2, 0.7])
    f = lambda v: (v.sin() * v).sum() * v.exp().sum()  # noqa: E731
    expected = F.hessian(f)(x)
    close(F.jacfwd(F.jacfwd(f))(x), expected)
    close(F.jacrev(F.jacrev(f))(x), expected)
    v = np.array([1.0, 0.5, -2.0])
    # reverse over forward: the gradient of the directional derivative is H v
    close(F.jacrev(lambda a: F.jvp(f, (a,), (v,))[1])(x), np.asarray(expected.data) @ v)


def test_jvp_through_an_op_without_a_rule_uses_the_double_vjp_fallback():
    x, t = np.array([0.5, -2.0, 1.5]), np.array([1.0, 2.0, -1.0])
    _, tangent = F.jvp(lambda v: Cube.apply(v).sin(), (x,), (t,))
    close(tangent, np.cos(x ** 3) * 3 * x ** 2 * t)
    close(F.hessian(lambda v: Cube.apply(v).sum())(x), np.diag(6 * x))
    with pytest.raises(NotImplementedError, match="Cube.*no forward-mode rule"), \
            pytest.warns(UserWarning, match="'Cube' has no batching rule"):
        F.vmap(lambda v: F.jvp(lambda a: Cube.apply(a), (v,), (v,))[1])(np.ones((2, 3)))


def test_reverse_mode_inside_jvp_inside_vmap_equals_the_loop():
    f = lambda v: (v ** 3).sum()  # noqa: E731
    xs = np.array([[1.0, -2.0, 0.5], [0.3, 0.2, -1.0]])
    close(F.vmap(lambda x: F.hvp(f, (x,), (x,))[1])(xs), 6 * xs * xs)


def test_jacobian_chooses_forward_for_wide_outputs():
    batched_calls = []

    def wide(x):
        batched_calls.append(isinstance(x, BatchedTensor))
        return (x.reshape(1, 2) * Tensor(np.arange(4.0).reshape(4, 1))).reshape(-1).sin()
    x = np.array([0.1, 0.2])
    close(F.jacobian(wide)(x), F.jacrev(wide)(x))
    batched_calls.clear()
    F.jacobian(wide)(x)
    # a trace for the shapes, then one jvp whose tangents (not the argument) are batched
    assert batched_calls == [False, False], "a wide output should be differentiated by jvps"
    batched_calls.clear()
    F.jacrev(wide)(x)
    assert batched_calls == [False, True], "jacrev runs vjp mapped over the output basis"


# --- bad input --------------------------------------------------------------------------

def test_vmap_in_axes_must_match_the_arguments():
    with pytest.raises(ValueError, match="in_axes has 3 entries.*2 positional"):
        F.vmap(lambda x, y: x * y, in_axes=(0, 0, None))(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(TypeError, match="in_axes entry for argument 1 must be an int or None"):
        F.vmap(lambda x, y: x * y, in_axes=(0, "1"))(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="maps no argument"):
        F.vmap(lambda x: x, in_axes=(None,))(np.ones(2))


def test_vmap_batch_axes_of_different_sizes_name_the_arguments_and_sizes():
    with pytest.raises(ValueError, match=r"argument 0 has size 2 along axis 0, argument 1 "
                                         r"has size 4 along axis 1"):
        F.vmap(lambda x, y: x.sum() * y.sum(), in_axes=(0, 1))(np.ones((2, 3)), np.ones((3, 4)))


def test_vmap_out_of_range_axes_name_the_argument_and_shape():
    with pytest.raises(ValueError, match=r"in_axes 2 is out of range for argument 0 of shape "
                                         r"\(2, 3\)"):
        F.vmap(lambda x: x, in_axes=2)(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"out_axes 3 is out of range for output 0"):
        F.vmap(lambda x: x, out_axes=3)(np.ones((2, 3)))


def test_batched_values_refuse_python_control_flow():
    with pytest.raises(TypeError, match="one value per batch element"):
        F.vmap(lambda x: x * 2 if x.sum() > 0 else x)(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match="backward\\(\\) inside vmap"):
        F.vmap(lambda x: (x * x).sum().backward())(np.ones((2, 3)))
