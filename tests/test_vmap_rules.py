"""vmap without loops where they used to remain: the batching rules of ``linalg.solve`` and
``put_along_axis`` (against the loop and ``torch.func.vmap``, shapes and in_axes drawn by
Hypothesis), ``vmap`` over ``hvp`` (reverse mode inside a jvp inside vmap), and
``jacfwd``/``jacrev`` as ``vmap`` of ``jvp``/``vjp`` over the basis (against
``torch.func``), including the functions that cannot be batched and take the loop.
"""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd as ag
from autograd import Tensor, functional as F

from custom_functions import Cube

torch = pytest.importorskip("torch")
SETTINGS = settings(max_examples=20, deadline=None)


def values(result):
    return np.asarray(result.data if isinstance(result, Tensor) else result)


def close(ours, expected, rtol=1e-10, atol=1e-11):
    expected = expected.detach().numpy() if hasattr(expected, "detach") else expected
    np.testing.assert_allclose(values(ours), np.asarray(expected), rtol=rtol, atol=atol)


def without_loop_warning(fn, *args):
    """``fn(*args)``, failing if any op falls back to the per-element loop."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn(*args)


def mapped_and_loop(f, args, axes, size):
    """``vmap(f)`` and the stacked loop over the batch (batch on axis 0 in both)."""
    mapped = values(without_loop_warning(F.vmap(f, in_axes=axes), *args))
    loop = np.stack([values(f(*[a if axis is None else np.take(a, i, axis=axis)
                                for a, axis in zip(args, axes)])) for i in range(size)])
    return mapped, loop


def torch_mapped(f, args, axes):
    return torch.func.vmap(f, in_dims=axes)(*[torch.as_tensor(a) for a in args]).numpy()


# --- linalg.solve ------------------------------------------------------------------------

@st.composite
def solve_problems(draw):
    """Per-element ``a`` (stack dims broadcasting with b's), ``b`` a vector or a stack of
    matrices, each batched or not, the batch axis anywhere."""
    side = draw(st.integers(1, 3))
    a_stack = tuple(draw(st.lists(st.integers(1, 2), max_size=2)))
    vector = draw(st.booleans())
    b_stack = () if vector else tuple(
        1 if draw(st.booleans()) else side_ for side_ in a_stack[len(a_stack) - draw(
            st.integers(0, len(a_stack))):])
    b_shape = (side,) if vector else b_stack + (side, draw(st.integers(1, 3)))
    size = draw(st.integers(1, 3))
    a_batched, b_batched = draw(st.sampled_from([(True, False), (False, True), (True, True)]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

    def batch(element_shape, batched, extra=None):
        if not batched:
            return rng.standard_normal(element_shape) + (extra if extra is not None else 0), None
        axis = draw(st.integers(0, len(element_shape)))
        stacked = rng.standard_normal((size,) + element_shape)
        if extra is not None:
            stacked = stacked + extra
        return np.moveaxis(stacked, 0, axis), axis
    well_conditioned = 4 * side * np.eye(side)
    a, a_axis = batch(a_stack + (side, side), a_batched, well_conditioned)
    b, b_axis = batch(b_shape, b_batched)
    return (a, b), (a_axis, b_axis), size


@SETTINGS
@given(solve_problems())
def test_solve_under_vmap_equals_the_loop_and_torch_func(problem):
    args, axes, size = problem
    mapped, loop = mapped_and_loop(ag.linalg.solve, args, axes, size)
    close(mapped, loop)
    a_rank, b_rank = (a.ndim - (axis is not None) for a, axis in zip(args, axes))
    if a_rank == 2 or a_rank == b_rank:
        # torch reads b of any other rank by its own rule (a batch of vectors when
        # b.ndim == a.ndim - 1), not NumPy's
        close(mapped, torch_mapped(torch.linalg.solve, args, axes))


def test_solve_with_one_matrix_factorizes_it_once_for_the_whole_batch():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 3)) + 4 * np.eye(3)
    bs = rng.standard_normal((5, 3))
    shapes = []
    real_solve = np.linalg.solve

    def counting(x, y):
        shapes.append((np.shape(x), np.shape(y)))
        return real_solve(x, y)
    np.linalg.solve = counting
    try:
        out = without_loop_warning(F.vmap(lambda b: ag.linalg.solve(a, b)), bs)
    finally:
        np.linalg.solve = real_solve
    assert shapes == [((3, 3), (3, 5))], "the batch should become columns of one solve"
    close(out, np.stack([real_solve(a, b) for b in bs]))


def test_gradients_through_batched_solve_match_the_loop():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 3, 3)) + 4 * np.eye(3)
    b = rng.standard_normal((3,))

    def loss(m, v):
        return (ag.linalg.solve(m, v) ** 2).sum()
    grads = without_loop_warning(F.vmap(F.grad(loss, argnums=(0, 1)), in_axes=(0, None)), a, b)
    for i in range(4):
        expected = F.grad(loss, argnums=(0, 1))(a[i], b)
        close(grads[0][i], expected[0])
        close(grads[1][i], expected[1])


def test_nested_vmap_of_solve_equals_the_double_loop():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((2, 3, 3)) + 4 * np.eye(3)
    b = rng.standard_normal((3, 2, 3))   # batch axes: 1 for the outer map, 0 for the inner
    inner = F.vmap(ag.linalg.solve, in_axes=(None, 0))
    out = without_loop_warning(F.vmap(inner, in_axes=(0, 1)), a, b)
    expected = np.stack([np.stack([np.linalg.solve(a[i], b[j, i]) for j in range(3)])
                         for i in range(2)])
    close(out, expected)


# --- put_along_axis ----------------------------------------------------------------------

@st.composite
def put_problems(draw):
    """``arr``, distinct ``indices`` along ``axis`` and ``values``, each batched or not."""
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    count = draw(st.integers(1, shape[axis]))
    size = draw(st.integers(1, 3))
    batched = draw(st.lists(st.booleans(), min_size=3, max_size=3).filter(any))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    index_shape = list(shape)
    index_shape[axis] = count

    def distinct_indices(leading=()):
        keys = rng.random(leading + shape)
        order = np.argsort(keys, axis=axis - len(shape) if axis >= 0 else axis)
        return np.take(order, np.arange(count), axis=axis - len(shape) if axis >= 0 else axis)
    values_shape = tuple(1 if draw(st.booleans()) else side for side in index_shape)
    elements = [lambda lead: rng.standard_normal(lead + shape),
                lambda lead: distinct_indices(lead),
                lambda lead: rng.standard_normal(lead + values_shape)]
    args, axes = [], []
    for make, is_batched in zip(elements, batched):
        if not is_batched:
            args.append(make(()))
            axes.append(None)
            continue
        stacked = make((size,))
        batch_axis = draw(st.integers(0, stacked.ndim - 1))
        args.append(np.moveaxis(stacked, 0, batch_axis))
        axes.append(batch_axis)
    return tuple(args), tuple(axes), axis, size


@SETTINGS
@given(put_problems())
def test_put_along_axis_under_vmap_equals_the_loop_and_torch_func(problem):
    args, axes, axis, size = problem
    mapped, loop = mapped_and_loop(lambda a, i, v: ag.put_along_axis(a, i, v, axis=axis),
                                   args, axes, size)
    close(mapped, loop)

    def torch_put(a, i, v):
        return torch.scatter(a, axis, i, v.expand(i.shape))
    close(mapped, torch_mapped(torch_put, args, axes))


def test_gradients_through_batched_put_along_axis_match_the_loop():
    rng = np.random.default_rng(3)
    arr, written = rng.standard_normal((4, 2, 5)), rng.standard_normal((4, 2, 2))
    indices = np.argsort(rng.random((4, 2, 5)), axis=-1)[..., :2]

    def loss(a, i, v):
        return (ag.put_along_axis(a, i, v, axis=1).sin() * a).sum()
    mapped = without_loop_warning(F.vmap(F.grad(loss, argnums=(0, 2))), arr, indices, written)
    for k in range(4):
        expected = F.grad(loss, argnums=(0, 2))(arr[k], indices[k], written[k])
        close(mapped[0][k], expected[0])
        close(mapped[1][k], expected[1])


# --- vmap(hvp) ---------------------------------------------------------------------------

def scalar_function(x, y):
    return ((x @ y).tanh() ** 2).sum() + (x.sin() * x).sum() * y.exp().mean()


def torch_hvp(x, y, vx, vy):
    def scalar(a, b):
        return ((a @ b).tanh() ** 2).sum() + (a.sin() * a).sum() * b.exp().mean()
    grad = torch.func.grad(scalar, argnums=(0, 1))
    return torch.func.jvp(lambda a, b: grad(a, b), (x, y), (vx, vy))[1]


@SETTINGS
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3),
       st.lists(st.booleans(), min_size=4, max_size=4).filter(any), st.integers(0, 2**32 - 1))
def test_vmap_of_hvp_equals_the_loop_and_torch_func(n, k, size, batched, seed):
    rng = np.random.default_rng(seed)
    shapes = [(n, k), (k, 2), (n, k), (k, 2)]
    args = [rng.standard_normal(((size,) if b else ()) + s) for s, b in zip(shapes, batched)]
    axes = tuple(0 if b else None for b in batched)

    def products(x, y, vx, vy):
        return F.hvp(scalar_function, (x, y), (vx, vy))[1]
    mapped = without_loop_warning(F.vmap(products, in_axes=axes), *args)
    theirs = torch.func.vmap(torch_hvp, in_dims=axes)(*[torch.as_tensor(a) for a in args])
    for i in range(size):
        expected = products(*[a[i] if b else a for a, b in zip(args, batched)])
        for position in range(2):
            close(mapped[position][i], expected[position])
            close(mapped[position][i], theirs[position][i], rtol=1e-9, atol=1e-10)


def test_vmap_of_jvp_of_grad_is_the_hessian_applied_to_each_tangent():
    x = np.array([0.3, -1.2, 0.7])
    tangents = np.random.default_rng(4).standard_normal((5, 3))
    f = lambda v: (v.sin() * v).sum() * v.exp().sum()  # noqa: E731
    mapped = F.vmap(lambda t: F.jvp(F.grad(f), (x,), (t,))[1])(tangents)
    close(mapped, tangents @ values(F.hessian(f)(x)).T)


# --- jacfwd / jacrev as vmap over the basis ----------------------------------------------

def composite(x, y):
    """Ops with batching and forward rules: matmul, solve, put_along_axis, reductions."""
    m = x.reshape(2, 2) @ x.reshape(2, 2).T + 3.0 * Tensor(np.eye(2))
    solved = ag.linalg.solve(m, y[:2])
    written = ag.put_along_axis(y.reshape(1, 3), np.array([[2, 0]]), solved.reshape(1, 2) * 0 +
                                x[:2].reshape(1, 2), axis=1)
    return (written.reshape(-1) * y.tanh()).exp() + solved.sum()


def torch_composite(x, y):
    m = x.reshape(2, 2) @ x.reshape(2, 2).T + 3.0 * torch.eye(2, dtype=x.dtype)
    solved = torch.linalg.solve(m, y[:2])
    written = torch.scatter(y.reshape(1, 3), 1, torch.tensor([[2, 0]]),
                            solved.reshape(1, 2) * 0 + x[:2].reshape(1, 2))
    return (written.reshape(-1) * y.tanh()).exp() + solved.sum()


@SETTINGS
@given(st.integers(0, 2**32 - 1))
def test_jacfwd_and_jacrev_match_torch_func_without_loops(seed):
    rng = np.random.default_rng(seed)
    x, y = Tensor(rng.standard_normal(4)), Tensor(rng.standard_normal(3))
    txy = (torch.as_tensor(x.data), torch.as_tensor(y.data))
    expected = torch.func.jacrev(torch_composite, argnums=(0, 1))(*txy)
    for transform in (F.jacfwd, F.jacrev):
        ours = transform(composite, argnums=(0, 1))(x, y)
        for mine, theirs in zip(ours, expected):
            close(mine, theirs)
    hessian = F.hessian(lambda a, b: composite(a, b).sum(), argnums=(0, 1))(x, y)
    torch_hessian = torch.func.hessian(lambda a, b: torch_composite(a, b).sum(),
                                       argnums=(0, 1))(*txy)
    for i in range(2):
        for j in range(2):
            close(hessian[i][j], torch_hessian[i][j], rtol=1e-8, atol=1e-9)


def test_jacobians_run_their_function_batched_not_once_per_element(monkeypatch):
    calls = []

    def f(x):
        calls.append(x.shape)
        return (x.sin() * x.sum()).reshape(2, 3)
    x = np.random.default_rng(5).standard_normal(6)
    J = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name, transform in (("jacfwd", F.jacfwd), ("jacrev", F.jacrev),
                                ("hessian", lambda g: F.hessian(lambda v: g(v).sum()))):
            calls.clear()
            J[name] = transform(f)(x)
            assert len(calls) <= 3, f"{name} called the function {len(calls)} times for 6 inputs"
    close(J["jacfwd"], J["jacrev"])
    expected = torch.func.jacfwd(lambda v: (v.sin() * v.sum()).reshape(2, 3))(torch.as_tensor(x))
    close(J["jacfwd"], expected)
    torch_hessian = torch.func.hessian(lambda v: (v.sin() * v.sum()).sum())(torch.as_tensor(x))
    close(J["hessian"], torch_hessian, rtol=1e-9, atol=1e-10)


def test_jacobians_through_what_cannot_be_batched_are_still_right_and_quiet():
    x = np.array([0.5, -2.0, 1.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # an op without a batching rule loops silently here
        close(F.jacrev(lambda v: Cube.apply(v).sin())(x), np.diag(np.cos(x ** 3) * 3 * x ** 2))
        close(F.jacfwd(lambda v: Cube.apply(v).sin())(x), np.diag(np.cos(x ** 3) * 3 * x ** 2))
        close(F.hessian(lambda v: Cube.apply(v).sum())(x), np.diag(6 * x))
        # det has no forward rule: its double-VJP fallback cannot run batched
        m = np.array([[2.0, 1.0], [0.5, 3.0]])
        close(F.jacfwd(lambda v: ag.linalg.det(v.reshape(2, 2)).reshape(1))(m.reshape(-1)),
              (np.linalg.det(m) * np.linalg.inv(m).T).reshape(1, 4))
        # Python control flow on the argument's values cannot run batched
        branchy = lambda v: v * 2.0 if float(v.sum()) > 0 else -v  # noqa: E731
        close(F.jacrev(branchy)(x + 1.0), 2.0 * np.eye(3))


def test_per_example_jacobians_by_vmap_of_jacrev_match_torch_func():
    rng = np.random.default_rng(6)
    w, xs = rng.standard_normal((3, 4)), rng.standard_normal((5, 3))
    f = lambda weights, x: (x @ weights).tanh()  # noqa: E731
    ours = without_loop_warning(F.vmap(F.jacrev(f), in_axes=(None, 0)), w, xs)
    theirs = torch.func.vmap(torch.func.jacrev(lambda a, b: (b @ a).tanh()), in_dims=(None, 0))(
        torch.as_tensor(w), torch.as_tensor(xs))
    close(ours, theirs)


# --- bad input still names the argument ----------------------------------------------------

def test_bad_in_axes_for_solve_name_the_argument_and_sizes():
    a, b = np.eye(3)[None].repeat(2, 0), np.ones((4, 3))
    with pytest.raises(ValueError, match=r"argument 0 has size 2 along axis 0, argument 1 "
                                         r"has size 4 along axis 0"):
        F.vmap(ag.linalg.solve)(a, b)
    with pytest.raises(ValueError, match=r"in_axes 2 is out of range for argument 1 of shape "
                                         r"\(4, 3\)"):
        F.vmap(ag.linalg.solve, in_axes=(None, 2))(np.eye(3), b)
    with pytest.raises(ValueError, match=r"linalg.solve: b of shape \(4,\) does not match"):
        F.vmap(ag.linalg.solve, in_axes=(None, 0))(np.eye(3), np.ones((2, 4)))
