"""``vmap`` over linalg.svd, linalg.qr (every mode) and linalg.eigh (batch axis 0 or 1) against the loop
over the batch, with no per-element fallback; and their tangents under ``vmap(jvp)`` and
``jvp(vmap)``, and their gradients under ``vmap(grad)``, against the same loop.
"""
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import autograd as ag
import autograd.testing.strategies as strategies
from autograd import Tensor, functional as F

SETTINGS = settings(max_examples=15, deadline=None)
SVD_CALLS = [dict(full_matrices=True), dict(full_matrices=False),
             dict(full_matrices=True, compute_uv=False), dict(full_matrices=False, compute_uv=False)]
QR_MODES = ["reduced", "complete", "r"]


def as_numpy(value):
    if isinstance(value, (tuple, list)):
        return [as_numpy(v) for v in value]
    return np.asarray(value.data if isinstance(value, Tensor) else value)


def outputs(result):
    return as_numpy(list(result) if isinstance(result, tuple) else [result])


def svd(**kwargs):
    def f(m):
        result = ag.linalg.svd(m, **kwargs)
        return tuple(result) if kwargs.get("compute_uv", True) else result
    return f


def qr(mode):
    return lambda m: ag.linalg.qr(m, mode=mode) if mode == "r" else tuple(
        ag.linalg.qr(m, mode=mode))


def batch_of(data, size, axis, **matrix):
    """``size`` matrices of one shape, the list and their stack along ``axis``."""
    first = data.draw(strategies.spectral_matrices(**matrix), label="first element")
    shape = first.shape
    rest = [data.draw(strategies.spectral_matrices(batch=shape[:-2], rows=shape[-2],
                                                   cols=shape[-1]), label=f"element {k}")
            for k in range(1, size)]
    elements = [first] + rest
    return elements, np.stack(elements, axis=axis)


def assert_mapped_equals_loop(mapped, looped, what, rtol=1e-12, atol=1e-12):
    mapped = outputs(mapped)
    for index, expected in enumerate(looped):
        expected = outputs(expected)
        assert len(mapped) == len(expected), what
        for k, (ours, theirs) in enumerate(zip(mapped, expected)):
            np.testing.assert_allclose(ours[index], theirs, rtol=rtol, atol=atol,
                                       err_msg=f"{what}: output {k}, batch element {index}")


@pytest.mark.parametrize("kwargs", SVD_CALLS, ids=str)
@pytest.mark.parametrize("axis", [0, 1])
@SETTINGS
@given(data=st.data(), size=st.integers(1, 3))
def test_vmap_of_svd_equals_the_loop(kwargs, axis, data, size):
    elements, stacked = batch_of(data, size, axis)
    f = svd(**kwargs)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="vmap: op")
        mapped = F.vmap(f, in_axes=axis)(stacked)
    assert_mapped_equals_loop(mapped, [f(x) for x in elements], f"vmap svd {kwargs}")


@pytest.mark.parametrize("mode", QR_MODES)
@pytest.mark.parametrize("axis", [0, 1])
@SETTINGS
@given(data=st.data(), size=st.integers(1, 3))
def test_vmap_of_qr_equals_the_loop(mode, axis, data, size):
    elements, stacked = batch_of(data, size, axis)
    f = qr(mode)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="vmap: op")
        mapped = F.vmap(f, in_axes=axis)(stacked)
    assert_mapped_equals_loop(mapped, [f(x) for x in elements], f"vmap qr {mode}")


@pytest.mark.parametrize("axis", [0, 1])
@SETTINGS
@given(data=st.data(), size=st.integers(1, 3))
def test_vmap_of_eigh_equals_the_loop(axis, data, size):
    square = data.draw(st.integers(1, 4), label="size of the matrices")
    elements, stacked = batch_of(data, size, axis, rows=square, cols=square)

    def f(m):
        return tuple(ag.linalg.eigh(m))
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="vmap: op")
        mapped = F.vmap(f, in_axes=axis)(stacked)
    assert_mapped_equals_loop(mapped, [f(x) for x in elements], "vmap eigh")


def jvp_pairs(f):
    """``(value, tangent)`` of ``f`` as one flat tuple (so vmap maps both)."""
    def g(m, t):
        out, tangent = F.jvp(f, (m,), (t,))
        return tuple(outputs_of_transform(out) + outputs_of_transform(tangent))
    return g


def outputs_of_transform(result):
    return list(result) if isinstance(result, tuple) else [result]


def differentiable(rows, cols, kwargs):
    """Whether forward mode is defined for this call (as it is in reverse mode)."""
    return not (kwargs.get("mode") == "complete" and rows > cols)


@pytest.mark.parametrize("call", [("svd", k) for k in SVD_CALLS] + [("qr", m) for m in QR_MODES],
                         ids=str)
@pytest.mark.parametrize("axis", [0, 1])
@SETTINGS
@given(data=st.data(), size=st.integers(1, 3))
def test_vmap_of_jvp_and_jvp_of_vmap_equal_the_loop(call, axis, data, size):
    kind, option = call
    elements, stacked = batch_of(data, size, axis, batch=())
    rows, cols = elements[0].shape
    if kind == "qr":
        assume(option != "complete" or rows <= cols)
        # wide input: the tangent divides by R of the leading square block
        assume(rows >= cols or max(np.linalg.cond(x[:, :rows]) for x in elements) < 1e3)
    f = svd(**option) if kind == "svd" else qr(option)
    tangents = [data.draw(strategies.arrays(x.shape), label=f"tangent {k}")
                for k, x in enumerate(elements)]
    looped = [jvp_pairs(f)(x, t) for x, t in zip(elements, tangents)]
    stacked_tangents = np.stack(tangents, axis=axis)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="vmap: op")
        mapped = F.vmap(jvp_pairs(f), in_axes=axis)(stacked, stacked_tangents)
        out, tangent = F.jvp(F.vmap(f, in_axes=axis), (stacked,), (stacked_tangents,))
    what = f"{kind} {option}"
    assert_mapped_equals_loop(mapped, looped, f"vmap(jvp) {what}", rtol=1e-10, atol=1e-12)
    inside = tuple(outputs_of_transform(out) + outputs_of_transform(tangent))
    assert_mapped_equals_loop(inside, looped, f"jvp(vmap) {what}", rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("call", [("svd", dict(full_matrices=False)), ("qr", "reduced"),
                                  ("qr", "r")], ids=str)
@SETTINGS
@given(data=st.data(), size=st.integers(1, 3))
def test_vmap_of_grad_equals_the_loop(call, data, size):
    kind, option = call
    elements, stacked = batch_of(data, size, 0, batch=())
    rows, cols = elements[0].shape
    assume(kind != "qr" or rows >= cols
           or max(np.linalg.cond(x[:, :rows]) for x in elements) < 1e3)

    def loss(m):
        if kind == "svd":
            u, s, vh = ag.linalg.svd(m, **option)
            return (u ** 3).sum() + (s * s).sum() + (vh * vh.sin()).sum()
        if option == "r":
            return (ag.linalg.qr(m, mode="r") ** 3).sum()
        q, r = ag.linalg.qr(m)
        return (q ** 3).sum() + (r * r.sin()).sum()
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="vmap: op")
        mapped = F.vmap(F.grad(loss))(stacked)
    assert_mapped_equals_loop(mapped, [F.grad(loss)(x) for x in elements],
                              f"vmap(grad) {kind} {option}", rtol=1e-10, atol=1e-12)
