"""The closed-form forward-mode rules of cumprod, fmax, fmin, sort, put_along_axis and
linalg cholesky, det, slogdet, inv, pinv, solve, eigh, svd and qr against ``torch.func.jvp``
on Hypothesis-drawn float64 inputs; tangents through eigh/svd/qr inside composite functions
against finite differences; Hessians through inv and cholesky against ``torch.func``;
and the conventions torch does not share (fmax/fmin ties, NaNs) against our own VJP.
"""
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import autograd as ag
import autograd.testing.strategies as strategies
from autograd import Tensor, functional as F
from autograd.op import REGISTRY

torch = pytest.importorskip("torch")

SETTINGS = settings(max_examples=20, deadline=None)


def as_numpy(value):
    if isinstance(value, (tuple, list)):
        return [as_numpy(v) for v in value]
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    return np.asarray(value.data if isinstance(value, Tensor) else value)


def assert_close(ours, expected, rtol=1e-8, atol=1e-10, what=""):
    ours, expected = as_numpy(ours), as_numpy(expected)
    if not isinstance(ours, list):
        ours, expected = [ours], [expected]
    assert len(ours) == len(expected), what
    for k, (mine, theirs) in enumerate(zip(ours, expected)):
        np.testing.assert_allclose(mine, theirs, rtol=rtol, atol=atol,
                                   err_msg=f"{what}: output {k}")


def tangents_like(data, *arrays):
    return tuple(data.draw(strategies.arrays(np.shape(a)), label=f"tangent {k}")
                 for k, a in enumerate(arrays))


def compare_with_torch(ours, theirs, primals, tangents, what, **tolerances):
    """Our jvp of ``ours`` against torch.func.jvp of ``theirs`` (values and tangents)."""
    out, tangent = F.jvp(ours, primals, tangents)
    t_out, t_tangent = torch.func.jvp(theirs, tuple(map(torch.as_tensor, primals)),
                                      tuple(map(torch.as_tensor, tangents)))
    assert_close(out, t_out, what=f"{what} value", **tolerances)
    assert_close(tangent, t_tangent, what=f"{what} tangent", **tolerances)


def finite_difference(f, primals, tangents, eps=1e-6):
    plus = as_numpy(f(*[Tensor(p + eps * t) for p, t in zip(primals, tangents)]))
    minus = as_numpy(f(*[Tensor(p - eps * t) for p, t in zip(primals, tangents)]))
    if isinstance(plus, list):
        return [(u - d) / (2 * eps) for u, d in zip(plus, minus)]
    return (plus - minus) / (2 * eps)


def aligned_columns(vectors, reference):
    """Each column's sign flipped to agree with NumPy's ``reference`` (a constant, so the
    tangent flips with it): eigen- and singular vectors are unique up to sign only."""
    signs = torch.sign((vectors.detach() * torch.as_tensor(reference)).sum(dim=-2, keepdim=True))
    return vectors * torch.where(signs == 0, torch.ones_like(signs), signs)


# --- linear algebra ------------------------------------------------------------------------

@SETTINGS
@given(data=st.data())
def test_inv(data):
    a = data.draw(strategies.invertible_matrices(), label="a")
    compare_with_torch(ag.linalg.inv, torch.linalg.inv, (a,), tangents_like(data, a), "inv")


@SETTINGS
@given(data=st.data(), vector=st.booleans(), which=st.sampled_from(["a", "b", "both"]))
def test_solve_with_a_vector_or_matrix_right_hand_side(data, vector, which):
    a = data.draw(strategies.invertible_matrices(), label="a")
    side = a.shape[-1]
    b_shape = (side,) if vector else a.shape[:-2] + (side, data.draw(st.integers(1, 3)))
    b = data.draw(strategies.arrays(b_shape), label="b")
    t_a, t_b = tangents_like(data, a, b)
    if which == "a":
        compare_with_torch(lambda m: ag.linalg.solve(m, b),
                           lambda m: torch.linalg.solve(m, torch.as_tensor(b)), (a,), (t_a,),
                           "solve (a)")
    elif which == "b":
        compare_with_torch(lambda v: ag.linalg.solve(a, v),
                           lambda v: torch.linalg.solve(torch.as_tensor(a), v), (b,), (t_b,),
                           "solve (b)")
    else:
        compare_with_torch(ag.linalg.solve, torch.linalg.solve, (a, b), (t_a, t_b), "solve")


@SETTINGS
@given(data=st.data())
def test_det(data):
    a = data.draw(strategies.invertible_matrices(), label="a")
    compare_with_torch(ag.linalg.det, torch.linalg.det, (a,), tangents_like(data, a), "det",
                       rtol=1e-7)


@SETTINGS
@given(data=st.data())
def test_slogdet(data):
    a = data.draw(strategies.invertible_matrices(), label="a")
    compare_with_torch(lambda m: ag.linalg.slogdet(m)[1], lambda m: torch.linalg.slogdet(m)[1],
                       (a,), tangents_like(data, a), "slogdet")


@SETTINGS
@given(data=st.data(), side=st.integers(2, 4))
def test_det_of_a_singular_matrix_uses_the_cofactors(data, side):
    # rank side - 1: det is 0 but its derivative, <cofactor, da>, is not
    full = data.draw(strategies.spectral_matrices(batch=(), rows=side, cols=side), label="full")
    u, s, vh = np.linalg.svd(full)
    a = (u * np.concatenate([s[:-1], [0.0]])) @ vh
    (t,) = tangents_like(data, a)
    _, tangent = F.jvp(ag.linalg.det, (a,), (t,))
    cofactor = np.array([[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(a, i, 0), j, 1))
                          for j in range(side)] for i in range(side)])
    assert_close(tangent, np.sum(cofactor * t), atol=1e-9, what="det at a singular matrix")
    assert_close(tangent, finite_difference(ag.linalg.det, (a,), (t,)), rtol=1e-5, atol=1e-7,
                 what="det at a singular matrix vs finite differences")


@SETTINGS
@given(data=st.data(), upper=st.booleans())
def test_cholesky_reads_the_symmetric_part_as_the_forward_does(data, upper):
    a = data.draw(strategies.spd_matrices(), label="a")
    compare_with_torch(lambda m: ag.linalg.cholesky(m, upper=upper),
                       lambda m: torch.linalg.cholesky((m + m.mT) / 2, upper=upper),
                       (a,), tangents_like(data, a), "cholesky")


@SETTINGS
@given(data=st.data())
def test_pinv_of_full_rank_matrices(data):
    a = data.draw(strategies.spectral_matrices(), label="a")
    compare_with_torch(ag.linalg.pinv, torch.linalg.pinv, (a,), tangents_like(data, a), "pinv",
                       rtol=1e-7, atol=1e-9)


@SETTINGS
@given(data=st.data())
def test_eigh_with_distinct_eigenvalues(data):
    a = data.draw(strategies.spectral_matrices(symmetric=True), label="a")
    reference = np.linalg.eigh(a)[1]

    def torch_eigh(m):
        w, v = torch.linalg.eigh((m + m.mT) / 2)  # our forward symmetrizes the input
        return w, aligned_columns(v, reference)
    compare_with_torch(lambda m: tuple(ag.linalg.eigh(m)), torch_eigh, (a,),
                       tangents_like(data, a), "eigh", rtol=1e-7, atol=1e-9)


@SETTINGS
@given(data=st.data(), full_matrices=st.booleans(), compute_uv=st.booleans())
def test_svd_full_and_reduced_with_and_without_vectors(data, full_matrices, compute_uv):
    a = data.draw(strategies.spectral_matrices(), label="a")
    (t,) = tangents_like(data, a)
    if not compute_uv:
        compare_with_torch(lambda m: ag.linalg.svd(m, compute_uv=False), torch.linalg.svdvals,
                           (a,), (t,), "svd values", rtol=1e-7, atol=1e-9)
        return
    u_ref = np.linalg.svd(a, full_matrices=full_matrices)[0]
    count = min(a.shape[-2:])

    def torch_svd(m):
        u, s, vh = torch.linalg.svd(m, full_matrices=full_matrices)
        # flip each pair (column of U, row of Vh) together; the extra ones of full_matrices
        # get no tangent in either library
        signs = torch.sign((u.detach() * torch.as_tensor(u_ref)).sum(dim=-2))
        vh = torch.cat([vh[..., :count, :] * signs[..., :count].unsqueeze(-1),
                        vh[..., count:, :]], dim=-2)
        return u * signs.unsqueeze(-2), s, vh
    compare_with_torch(lambda m: tuple(ag.linalg.svd(m, full_matrices=full_matrices)),
                       torch_svd, (a,), (t,), f"svd full_matrices={full_matrices}",
                       rtol=1e-7, atol=1e-9)


@SETTINGS
@given(data=st.data())
def test_jvp_through_eigh_in_a_composite_function_matches_finite_differences(data):
    a = data.draw(strategies.spectral_matrices(batch=(), symmetric=True), label="a")
    b = data.draw(strategies.arrays(a.shape), label="b")

    def f(m, n):
        w, v = ag.linalg.eigh(m @ m.T + n)
        return (v ** 3).sum(axis=0) * w.tanh() + (v @ n).sum()
    tangents = tangents_like(data, a, b)
    _, tangent = F.jvp(f, (a, b), tangents)
    assert_close(tangent, finite_difference(f, (a, b), tangents), rtol=1e-5, atol=1e-6,
                 what="eigh composite")


@SETTINGS
@given(data=st.data(), full_matrices=st.booleans())
def test_jvp_through_svd_in_a_composite_function_matches_finite_differences(data,
                                                                            full_matrices):
    a = data.draw(strategies.spectral_matrices(batch=()), label="a")

    def f(m):
        u, s, vh = ag.linalg.svd(m.sin() * 0.2 + m, full_matrices=full_matrices)
        count = s.shape[-1]
        return (u[:, :count] * s) @ (vh[:count] ** 2) + s.sum() ** 2
    tangents = tangents_like(data, a)
    _, tangent = F.jvp(f, (a,), tangents)
    assert_close(tangent, finite_difference(f, (a,), tangents), rtol=1e-5, atol=1e-6,
                 what="svd composite")


def qr_input(data, batch=None):
    """A full-rank matrix whose leading square block is well conditioned: for wide input
    the QR tangent (like its gradient, here and in PyTorch) divides by that block's R."""
    a = data.draw(strategies.spectral_matrices(batch=batch), label="a")
    rows, cols = a.shape[-2:]
    assume(rows >= cols or np.linalg.cond(a[..., :, :rows]).max() < 1e3)
    return a


def torch_qr_like_numpy(a, mode):
    """torch.linalg.qr with each R row (and Q column) flipped to NumPy's sign of R's
    diagonal; the signs are read from ``a`` outside the transform (constants)."""
    reference = np.sign(np.diagonal(np.linalg.qr(a)[1], axis1=-2, axis2=-1))

    def torch_qr(m):
        # mode 'r' is differentiated through 'reduced' (torch's 'r' has no jvp, as Q is
        # not computed); 'complete' is 'reduced' wherever it is differentiable
        q, r = torch.linalg.qr(m)
        signs = torch.sign(torch.diagonal(r.detach(), dim1=-2, dim2=-1)) * torch.as_tensor(
            reference)
        q, r = q * signs.unsqueeze(-2), r * signs.unsqueeze(-1)
        return r if mode == "r" else (q, r)
    return torch_qr


def ag_qr(mode):
    return lambda m: ag.linalg.qr(m, mode=mode) if mode == "r" else tuple(
        ag.linalg.qr(m, mode=mode))


@SETTINGS
@given(data=st.data(), mode=st.sampled_from(["reduced", "r", "complete"]))
def test_qr_tall_square_and_wide_against_torch(data, mode):
    a = qr_input(data)
    (t,) = tangents_like(data, a)
    rows, cols = a.shape[-2:]
    if mode == "complete" and rows > cols:
        # outside the VJP's domain: forward mode raises the same error
        with pytest.raises(ValueError, match="mode='complete' with more rows"):
            F.jvp(ag_qr(mode), (a,), (t,))
        with pytest.raises(ValueError, match="mode='complete' with more rows"):
            q, r = np.linalg.qr(a, mode="complete")
            F.vjp(ag_qr(mode), a)[1]((np.ones(q.shape), np.ones(r.shape)))
        return
    compare_with_torch(ag_qr(mode), torch_qr_like_numpy(a, mode), (a,), (t,),
                       f"qr mode={mode} shape={a.shape}", rtol=1e-7, atol=1e-9)


@SETTINGS
@given(data=st.data(), mode=st.sampled_from(["reduced", "r", "complete"]))
def test_jvp_through_qr_in_a_composite_function_matches_finite_differences(data, mode):
    a = qr_input(data, batch=())
    rows, cols = a.shape
    assume(mode != "complete" or rows <= cols)

    def f(m):
        m = m.sin() * 0.2 + m
        if mode == "r":
            return ag.linalg.qr(m, mode="r") ** 2
        q, r = ag.linalg.qr(m, mode=mode)
        return (q ** 3) @ r + (q * q.tanh()).sum()
    tangents = tangents_like(data, a)
    _, tangent = F.jvp(f, (a,), tangents)
    assert_close(tangent, finite_difference(f, (a,), tangents), rtol=1e-5, atol=1e-6,
                 what=f"qr composite mode={mode}")


@SETTINGS
@given(data=st.data())
def test_qr_tangent_is_the_transpose_of_its_vjp(data):
    # <J t, u> == <t, J^T u>: the forward rule and the reverse rule agree on every input
    a = qr_input(data)
    t, u_q, u_r = (data.draw(strategies.arrays(shape), label=label) for shape, label in
                   ((a.shape, "t"), (np.linalg.qr(a)[0].shape, "u_q"),
                    (np.linalg.qr(a)[1].shape, "u_r")))
    _, (t_q, t_r) = F.jvp(ag_qr("reduced"), (a,), (t,))
    _, pullback = F.vjp(ag_qr("reduced"), a)
    (g,) = pullback((u_q, u_r))
    forward = (as_numpy(t_q) * u_q).sum() + (as_numpy(t_r) * u_r).sum()
    np.testing.assert_allclose(forward, (as_numpy(g) * t).sum(), rtol=1e-8, atol=1e-9)


@SETTINGS
@given(data=st.data())
def test_hessian_through_qr(data):
    a = qr_input(data, batch=())

    def f(m):
        q, r = ag.linalg.qr(m)
        return (q ** 3).sum() + (r * r.sin()).sum()

    def torch_f(m):
        q, r = torch_qr_like_numpy(a, "reduced")(m)
        return (q ** 3).sum() + (r * r.sin()).sum()
    expected = torch.func.hessian(torch_f)(torch.as_tensor(a))
    assert_close(F.hessian(f)(a), expected, rtol=1e-6, atol=1e-8, what="hessian through qr")


# --- second order: forward over reverse through the new rules --------------------------------

@SETTINGS
@given(data=st.data())
def test_hessian_and_hvp_through_inv(data):
    a = data.draw(strategies.invertible_matrices(batch=()), label="a")
    (v,) = tangents_like(data, a)

    def f(m):
        return (ag.linalg.inv(m) ** 2).sum() + ag.linalg.inv(m).trace()

    def torch_f(m):
        return (torch.linalg.inv(m) ** 2).sum() + torch.linalg.inv(m).trace()
    expected = torch.func.hessian(torch_f)(torch.as_tensor(a))
    assert_close(F.hessian(f)(a), expected, rtol=1e-7, atol=1e-9, what="hessian through inv")
    _, product = F.hvp(f, (a,), (v,))
    _, expected_product = torch.func.jvp(torch.func.grad(torch_f), (torch.as_tensor(a),),
                                         (torch.as_tensor(v),))
    assert_close(product, expected_product, rtol=1e-7, atol=1e-9, what="hvp through inv")


@SETTINGS
@given(data=st.data(), upper=st.booleans())
def test_hessian_and_hvp_through_cholesky(data, upper):
    a = data.draw(strategies.spd_matrices(batch=()), label="a")
    (v,) = tangents_like(data, a)

    def f(m):
        factor = ag.linalg.cholesky(m, upper=upper)
        return (factor ** 3).sum() + factor.exp().sum()

    def torch_f(m):
        factor = torch.linalg.cholesky((m + m.mT) / 2, upper=upper)
        return (factor ** 3).sum() + factor.exp().sum()
    expected = torch.func.hessian(torch_f)(torch.as_tensor(a))
    assert_close(F.hessian(f)(a), expected, rtol=1e-7, atol=1e-9,
                 what="hessian through cholesky")
    _, product = F.hvp(f, (a,), (v,))
    _, expected_product = torch.func.jvp(torch.func.grad(torch_f), (torch.as_tensor(a),),
                                         (torch.as_tensor(v),))
    assert_close(product, expected_product, rtol=1e-7, atol=1e-9, what="hvp through cholesky")


# --- cumprod, sort, put_along_axis, fmax, fmin ---------------------------------------------

@SETTINGS
@given(data=st.data())
def test_cumprod_with_and_without_zeros(data):
    (x,), kwargs = data.draw(strategies.prod_args(), label="x")
    axis = kwargs["axis"] if not isinstance(kwargs["axis"], tuple) else kwargs["axis"][0]
    if x.ndim == 0:
        x = x.reshape(1)
        axis = None if axis is None else 0

    def torch_cumprod(v):
        return torch.cumprod(v.reshape(-1) if axis is None else v, dim=axis or 0)
    compare_with_torch(lambda v: ag.cumprod(v, axis=axis), torch_cumprod, (x,),
                       tangents_like(data, x), f"cumprod axis={axis}")


def test_cumprod_tangent_at_zeros_needs_no_division():
    # out / x would give 0/0 here; the tangent at and after each zero is still finite
    x = np.array([[2.0, 0.0, 3.0, 0.0, 5.0], [0.0, 0.0, 1.5, 2.0, 1.0]])
    t = np.arange(10.0).reshape(2, 5) - 4.0
    _, tangent = F.jvp(lambda v: ag.cumprod(v, axis=1), (x,), (t,))
    expected = torch.func.jvp(lambda v: torch.cumprod(v, dim=1), (torch.as_tensor(x),),
                              (torch.as_tensor(t),))[1]
    assert np.all(np.isfinite(as_numpy(tangent)))
    assert_close(tangent, expected, what="cumprod at zeros")


@SETTINGS
@given(data=st.data(), ties=st.booleans())
def test_sort_gathers_the_tangent_by_the_stable_order(data, ties):
    shape = data.draw(strategies.shapes(min_dims=1, max_dims=3), label="shape")
    if ties:  # few distinct values: stable order keeps tied elements in place, as torch's
        x = data.draw(strategies.hnp.arrays(np.float64, shape, elements=st.sampled_from(
            [-1.0, 0.5, 2.0])), label="x")
    else:
        x = data.draw(strategies.distinct_arrays(shape), label="x")
    axis = data.draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)), label="axis")

    def torch_sort(v):
        return torch.sort(v.reshape(-1) if axis is None else v, dim=-1 if axis is None else axis,
                          stable=True).values
    compare_with_torch(lambda v: ag.sort(v, axis=axis), torch_sort, (x,),
                       tangents_like(data, x), f"sort axis={axis}")


@SETTINGS
@given(data=st.data())
def test_sort_tangent_under_vmap_of_a_batched_input_equals_the_loop(data):
    xs = data.draw(strategies.distinct_arrays((3, 4)), label="xs")
    ts = data.draw(strategies.arrays((3, 4)), label="ts")

    def tangent(x, t):
        return F.jvp(lambda v: ag.sort(v * v), (x,), (t,))[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # put_along_axis may loop under vmap (values agree)
        mapped = F.vmap(tangent)(xs, ts)
    assert_close(mapped, np.stack([as_numpy(tangent(x, t)) for x, t in zip(xs, ts)]),
                 rtol=1e-12, atol=1e-12, what="vmap(jvp(sort))")


@SETTINGS
@given(data=st.data(), which=st.sampled_from(["arr", "values", "both"]))
def test_put_along_axis(data, which):
    (arr, indices, values), kwargs = data.draw(
        REGISTRY["put_along_axis"].sample(strategies), label="args")
    axis = kwargs["axis"]
    t_arr, t_values = tangents_like(data, arr, values)

    def torch_put(a, v):
        return torch.scatter(a, axis, torch.as_tensor(indices) % a.shape[axis],
                             v.expand(indices.shape))
    if which == "arr":
        compare_with_torch(lambda a: ag.put_along_axis(a, indices, values, axis=axis),
                           lambda a: torch_put(a, torch.as_tensor(values)), (arr,), (t_arr,),
                           "put_along_axis (arr)")
    elif which == "values":
        compare_with_torch(lambda v: ag.put_along_axis(arr, indices, v, axis=axis),
                           lambda v: torch_put(torch.as_tensor(arr), v), (values,),
                           (t_values,), "put_along_axis (values)")
    else:
        compare_with_torch(lambda a, v: ag.put_along_axis(a, indices, v, axis=axis), torch_put,
                           (arr, values), (t_arr, t_values), "put_along_axis")


@SETTINGS
@given(data=st.data(), name=st.sampled_from(["fmax", "fmin"]))
def test_fmax_fmin_off_ties_with_nans(data, name):
    (x, y), _ = data.draw(strategies.untied_pair(), label="pair")
    shape = np.broadcast_shapes(x.shape, y.shape)
    x, y = np.broadcast_to(x, shape).copy(), np.broadcast_to(y, shape).copy()
    # a NaN on one side only: the other input is chosen, with its tangent
    nan_side = data.draw(strategies.hnp.arrays(np.int8, shape, elements=st.integers(0, 2)))
    x[nan_side == 1], y[nan_side == 2] = np.nan, np.nan
    compare_with_torch(getattr(ag, name), getattr(torch, name), (x, y),
                       tangents_like(data, x, y), name)


@pytest.mark.parametrize("name", ["fmax", "fmin"])
def test_fmax_fmin_ties_and_double_nans_follow_the_vjp(name):
    # torch's forward rule takes y's tangent on a tie while its VJP (and ours) gives the
    # gradient to x; our rule is the transpose of our VJP: x's tangent on ties and NaNs
    x = np.array([1.0, 2.0, np.nan, np.nan, 3.0])
    y = np.array([1.0, np.nan, 4.0, np.nan, 0.0])
    t_x, t_y = np.full(5, 10.0), np.full(5, 20.0)
    out, tangent = F.jvp(getattr(ag, name), (x, y), (t_x, t_y))
    chosen = {"fmax": [10.0, 10.0, 20.0, 10.0, 10.0], "fmin": [10.0, 10.0, 20.0, 10.0, 20.0]}
    assert_close(tangent, np.array(chosen[name]), what=f"{name} tangent")
    _, pullback = F.vjp(getattr(ag, name), x, y)
    g_x, g_y = pullback(np.ones(5))
    assert_close(tangent, as_numpy(g_x) * t_x + as_numpy(g_y) * t_y,
                 what=f"{name} tangent vs its VJP")
