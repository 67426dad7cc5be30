"""autograd.linalg: identities between the ops (on well-conditioned random inputs), the
documented degenerate cases, and errors that name the op, argument and shape."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd as ag
from autograd import Tensor
from autograd.testing import strategies as ats


def leaf(array):
    return Tensor(np.array(array, dtype=np.float64), requires_grad=True)


def gradient(f, *arrays):
    leaves = [leaf(a) for a in arrays]
    f(*leaves).backward()
    return [t.grad.data for t in leaves]


@settings(max_examples=25)
@given(a=ats.invertible_matrices(batch=()), data=st.data())
def test_solve_matches_inv_times_b_with_the_same_gradients(a, data):
    b = data.draw(ats.arrays((a.shape[-1], 2)))
    weights = data.draw(ats.arrays((a.shape[-1], 2)))
    via_solve = gradient(lambda A, B: (ag.linalg.solve(A, B) * weights).sum(), a, b)
    via_inv = gradient(lambda A, B: ((ag.linalg.inv(A) @ B) * weights).sum(), a, b)
    np.testing.assert_allclose(ag.linalg.solve(a, b), np.linalg.inv(a) @ b, rtol=1e-9, atol=1e-12)
    for mine, reference in zip(via_solve, via_inv):
        np.testing.assert_allclose(mine, reference, rtol=1e-8, atol=1e-10)


@settings(max_examples=25)
@given(a=ats.invertible_matrices())
def test_det_equals_sign_times_exp_slogdet_values_and_gradients(a):
    def from_slogdet(A):
        sign, logabsdet = ag.linalg.slogdet(A)
        return (sign * ag.exp(logabsdet)).sum()
    np.testing.assert_allclose(ag.linalg.det(leaf(a)).data,
                               np.prod(ag.linalg.slogdet(a)[0].data[..., None], axis=-1)
                               * np.exp(ag.linalg.slogdet(leaf(a)).logabsdet.data), rtol=1e-9)
    np.testing.assert_allclose(gradient(lambda A: ag.linalg.det(A).sum(), a)[0],
                               gradient(from_slogdet, a)[0], rtol=1e-8, atol=1e-10)


@settings(max_examples=25)
@given(a=ats.spectral_matrices(symmetric=True))
def test_eigh_reconstructs_the_matrix_and_its_gradient_is_the_identity_map(a):
    w, v = ag.linalg.eigh(leaf(a))
    rebuilt = (v * ag.expand_dims(w, -2)) @ v.swapaxes(-1, -2)
    np.testing.assert_allclose(rebuilt.data, a, rtol=1e-9, atol=1e-10)
    # d(sum(rebuilt * c))/dA is sym(c): the decomposition's gradients cancel exactly
    c = np.cos(np.arange(a.size)).reshape(a.shape)
    grad = gradient(lambda A: (_reconstruct(*ag.linalg.eigh(A)) * c).sum(), a)[0]
    np.testing.assert_allclose(grad, (c + np.swapaxes(c, -1, -2)) / 2, rtol=1e-7, atol=1e-9)


def _reconstruct(w, v):
    return (v * ag.expand_dims(w, -2)) @ v.swapaxes(-1, -2)


@settings(max_examples=25)
@given(a=ats.spectral_matrices(), full=st.booleans())
def test_svd_and_qr_reconstruct_and_pass_gradients_through(a, full):
    u, s, vh = ag.linalg.svd(leaf(a), full_matrices=False)
    np.testing.assert_allclose(((u * ag.expand_dims(s, -2)) @ vh).data, a, rtol=1e-9, atol=1e-10)
    c = np.sin(np.arange(a.size)).reshape(a.shape)
    for rebuild in (lambda A: (lambda u, s, vh: (u * ag.expand_dims(s, -2)) @ vh)(
                        *ag.linalg.svd(A, full_matrices=False)),
                    lambda A: (lambda q, r: q @ r)(*ag.linalg.qr(A))):
        np.testing.assert_allclose(gradient(lambda A: (rebuild(A) * c).sum(), a)[0], c,
                                   rtol=1e-7, atol=1e-9)


@settings(max_examples=25)
@given(a=ats.spd_matrices())
def test_cholesky_factor_times_its_transpose_is_the_input(a):
    factor = ag.linalg.cholesky(a)
    np.testing.assert_allclose(factor @ np.swapaxes(factor.data, -1, -2), a, rtol=1e-9, atol=1e-10)


@settings(max_examples=25)
@given(a=ats.spectral_matrices(batch=()))
def test_pinv_and_lstsq_agree_with_numpy(a):
    np.testing.assert_allclose(ag.linalg.pinv(a).data, np.linalg.pinv(a), rtol=1e-8, atol=1e-10)
    b = np.arange(a.shape[0], dtype=np.float64)
    ours = ag.linalg.lstsq(a, b)
    theirs = np.linalg.lstsq(a, b, rcond=None)
    np.testing.assert_allclose(ours[0].data, theirs[0], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours[1].data, theirs[1], rtol=1e-8, atol=1e-10)
    assert int(ours[2]) == theirs[2]
    np.testing.assert_allclose(ours[3].data, theirs[3], rtol=1e-10)


def test_numpy_linalg_on_tensors_dispatches_and_records():
    a = leaf(np.array([[2.0, 1.0], [1.0, 3.0]]))
    for function in (np.linalg.inv, np.linalg.det, lambda x: np.linalg.norm(x, "nuc"),
                     lambda x: np.linalg.eigh(x)[0], lambda x: np.linalg.svd(x)[1],
                     lambda x: np.linalg.cholesky(x), lambda x: np.linalg.qr(x)[1],
                     lambda x: np.linalg.slogdet(x)[1], lambda x: np.linalg.matrix_power(x, 3)):
        out = function(a)
        assert isinstance(out, Tensor) and out.requires_grad


# --- degenerate cases, as documented --------------------------------------------------------

def test_repeated_eigenvalues_give_finite_eigenvalue_gradients_only():
    a = leaf(np.eye(3))
    w, v = ag.linalg.eigh(a)
    w.sum().backward()
    np.testing.assert_allclose(a.grad.data, np.eye(3))          # d trace = I, finite
    b = leaf(np.eye(3))
    w, v = ag.linalg.eigh(b)
    with np.errstate(divide="ignore", invalid="ignore"):
        (v * np.arange(9.0).reshape(3, 3)).sum().backward()
    assert not np.all(np.isfinite(b.grad.data))                   # inf/NaN, as PyTorch


def test_det_of_a_singular_matrix_has_the_cofactor_gradient():
    a = leaf(np.array([[1.0, 2.0], [2.0, 4.0]]))
    out = ag.linalg.det(a)
    assert out.item() == 0.0
    out.backward()
    np.testing.assert_allclose(a.grad.data, [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)


def test_slogdet_of_a_singular_matrix_is_minus_inf_and_its_gradient_raises():
    a = leaf(np.array([[1.0, 2.0], [2.0, 4.0]]))
    sign, logabsdet = ag.linalg.slogdet(a)
    assert sign.item() == 0.0 and logabsdet.item() == -np.inf
    with pytest.raises(np.linalg.LinAlgError, match=r"linalg.slogdet.*\(2, 2\).*singular"):
        logabsdet.backward()


# --- errors ---------------------------------------------------------------------------------

@pytest.mark.parametrize("function", [ag.linalg.inv, ag.linalg.det, ag.linalg.cholesky,
                                      ag.linalg.eigh, ag.linalg.slogdet])
def test_non_square_input_is_named(function):
    name = function.__name__
    with pytest.raises(ValueError, match=rf"{name}: a must be a square matrix.*\(2, 3\)"):
        function(leaf(np.ones((2, 3))))


def test_singular_matrices_raise_linalg_errors_naming_op_and_shape():
    singular = leaf(np.array([[1.0, 2.0], [2.0, 4.0]]))
    with pytest.raises(np.linalg.LinAlgError, match=r"linalg.solve: a of shape \(2, 2\) is singular"):
        ag.linalg.solve(singular, np.ones(2))
    with pytest.raises(ValueError, match=r"linalg.inv: a of shape \(2, 2\) is singular"):
        ag.linalg.inv(singular)
    with pytest.raises(ValueError, match=r"linalg.cholesky: .*\(2, 2\) is not positive definite"):
        ag.linalg.cholesky(-np.eye(2))


def test_solve_with_mismatched_b_and_bad_norm_orders_are_named():
    with pytest.raises(ValueError, match=r"linalg.solve: b of shape \(3,\) does not match a of shape \(2, 2\)"):
        ag.linalg.solve(np.eye(2), np.ones(3))
    with pytest.raises(ValueError, match=r"linalg.norm: invalid matrix norm ord='bad'"):
        ag.linalg.norm(np.eye(2), ord="bad")
    with pytest.raises(ValueError, match=r"linalg.norm: axis=5 is out of range for an input of shape \(2, 2\)"):
        ag.linalg.norm(np.eye(2), axis=5)
