"""Matrix decompositions: cholesky, qr, eigh, svd (PyTorch's gradients).

Ops with several outputs (eigh, qr, svd) compute one packed array, the outputs joined
along the last axis, and the public function slices it apart; the slicing is ordinary
indexing, so the pieces' gradients meet in the packed op's VJP. Gradients of outputs
that are not used arrive as zeros and are skipped.
"""
from collections import namedtuple

import numpy as np

from ..batching import batch_leading, logical_shape
from ..op import Op, apply, functions, register, value_of
from .matrices import check_matrix, check_square, mT, symmetrized

EighResult = namedtuple("EighResult", "eigenvalues eigenvectors")
QRResult = namedtuple("QRResult", "Q R")
SVDResult = namedtuple("SVDResult", "U S Vh")


def _unused(g):
    """True when an output's incoming gradient is identically zero (it was not used)."""
    return not np.any(value_of(g))


@register("linalg.cholesky", public=False, numpy=np.linalg.cholesky,
          sample=lambda st: st.spd_matrices().flatmap(lambda a: st.st.booleans().map(
              lambda upper: ((a,), {"upper": upper}))),
          torch=lambda torch, a, upper=False: torch.linalg.cholesky(a, upper=upper))
class Cholesky(Op):
    """Lower factor L of a symmetric positive definite a = L L^T (``upper=True``: L^T).

    The input is symmetrized first, (a + a^T) / 2, which is NumPy's result for symmetric
    input; the gradient is PyTorch's symmetric one, L^-T Psi L^-1 with Psi the symmetric
    part of tril(L^T gL) with its diagonal halved. Raises LinAlgError (a ValueError)
    when a is not positive definite.
    """
    batch_rule = batch_leading

    def forward(self, a, *, upper=False):
        check_square(a, "linalg.cholesky")
        self.upper = upper
        try:
            factor = np.linalg.cholesky(symmetrized(a))
        except np.linalg.LinAlgError:
            raise np.linalg.LinAlgError(f"linalg.cholesky: a of shape {np.shape(a)} is not "
                                        f"positive definite") from None
        return np.swapaxes(factor, -1, -2).copy() if upper else factor

    def vjp(self, g, out, a):
        lower, g_lower = (mT(out), mT(g)) if self.upper else (out, g)
        product = tril(mT(lower) @ g_lower)
        psi = (product + mT(tril(product, -1))) * 0.5
        left = solve(mT(lower), psi)                    # L^-T psi
        return (mT(solve(mT(lower), mT(left))),)        # L^-T psi L^-1

    def jvp(self, tangents, out, a):
        # dL = L Phi(L^-1 dS L^-T), dS the symmetric part of da (the forward reads
        # (a + a^T) / 2), Phi the lower triangle with its diagonal halved
        upper = self.params.get("upper", False)
        lower = mT(out) if upper else out
        t = tangents[0]
        left = solve(lower, (t + mT(t)) * 0.5)                  # L^-1 dS
        inner = mT(solve(lower, mT(left)))                      # L^-1 dS L^-T
        eye = np.eye(value_of(out).shape[-1], dtype=value_of(out).dtype)
        tangent = lower @ (tril(inner) * (1.0 - 0.5 * eye))
        return mT(tangent) if upper else tangent


class _PackedEigh(Op):
    """eigh of the symmetrized input, packed as (..., n + 1, n): row 0 the eigenvalues
    (ascending), rows 1.. the eigenvectors (columns)."""
    name = "linalg.eigh"
    batch_rule = batch_leading

    def forward(self, a):
        w, v = np.linalg.eigh(symmetrized(a))
        return np.concatenate([w[..., None, :], v], axis=-2)

    def vjp(self, g, out, a):
        w, v = out[..., 0, :], out[..., 1:, :]
        g_w, g_v = g[..., 0, :], g[..., 1:, :]
        # PyTorch's linalg_eig_backward for Hermitian input:
        # gA = V (skew(V^T gV) / 2 / E + diag(gw)) V^T, E[i, j] = w[j] - w[i]
        inner = _diag_embed(g_w)
        if not _unused(g_v):
            vt_gv = mT(v) @ g_v
            eye = np.eye(value_of(w).shape[-1], dtype=value_of(w).dtype)
            gaps = expand_dims(w, -2) - expand_dims(w, -1) + eye
            inner = inner + (vt_gv - mT(vt_gv)) * 0.5 / gaps * (1.0 - eye)
        return (v @ inner @ mT(v),)

    def jvp(self, tangents, out, a):
        # with M = V^T dS V (dS the symmetric part of da, as the forward symmetrizes):
        # dw = diag(M), dV = V (F o M), F[i, j] = 1 / (w[j] - w[i]) off the diagonal and
        # 0 on it (each eigenvector keeps unit length; its sign is NumPy's, held fixed)
        w, v = out[..., 0, :], out[..., 1:, :]
        t = tangents[0]
        m = mT(v) @ ((t + mT(t)) * 0.5) @ v
        eye = np.eye(value_of(w).shape[-1], dtype=value_of(w).dtype)
        gaps = expand_dims(w, -2) - expand_dims(w, -1) + eye
        t_w = sum(m * eye, axis=-1)
        t_v = v @ (m / gaps * (1.0 - eye))
        return concatenate([expand_dims(t_w, -2), t_v], axis=-2)


def _diag_embed(values):
    """(..., n) -> (..., n, n) with ``values`` on the diagonal (differentiably)."""
    eye = np.eye(value_of(values).shape[-1], dtype=value_of(values).dtype)
    return expand_dims(values, -1) * eye


def _eigh_sample(st):
    return st.spectral_matrices(symmetric=True).map(lambda a: ((a,), {}))


def _aligned_columns(torch, vectors, reference):
    """``vectors`` with each column's sign flipped to agree with ``reference`` (NumPy's
    result): eigen- and singular vectors are unique only up to sign, so the parity test
    compares the same choice."""
    reference = torch.as_tensor(reference, dtype=vectors.dtype)
    signs = torch.sign((vectors.detach() * reference).sum(dim=-2, keepdim=True))
    return vectors * torch.where(signs == 0, torch.ones_like(signs), signs)


def _torch_eigh(torch, a, UPLO="L"):
    w, v = torch.linalg.eigh(a)
    reference = np.linalg.eigh(a.detach().numpy())[1]
    return w, _aligned_columns(torch, v, reference)


@register("linalg.eigh", public=False, numpy=np.linalg.eigh, sample=_eigh_sample,
          torch=_torch_eigh)
def eigh(a, UPLO="L"):
    """Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix, as
    ``EighResult(eigenvalues, eigenvectors)``.

    The input is symmetrized, (a + a^T) / 2 (JAX's choice), so both triangles count and
    ``UPLO`` is accepted for NumPy compatibility only; for symmetric input this is
    NumPy's result. The eigenvector gradient divides by eigenvalue gaps: with repeated
    eigenvalues it is inf/NaN (as in PyTorch) unless only eigenvalues are used.
    """
    check_square(a, "linalg.eigh")
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    packed = apply(_PackedEigh, (a,))
    return EighResult(packed[..., 0, :], packed[..., 1:, :])


class _PackedQR(Op):
    """Q and R of a = Q R flattened and joined along the last axis."""
    name = "linalg.qr"
    batch_rule = batch_leading

    def forward(self, a, *, mode):
        q, r = np.linalg.qr(a, mode=mode)
        self.q_shape, self.r_shape = q.shape[-2:], r.shape[-2:]
        batch = q.shape[:-2]
        return np.concatenate([q.reshape(batch + (-1,)), r.reshape(batch + (-1,))], axis=-1)

    def unpack(self, packed):
        size = self.q_shape[0] * self.q_shape[1]
        return (packed[..., :size].reshape(packed.shape[:-1] + self.q_shape),
                packed[..., size:].reshape(packed.shape[:-1] + self.r_shape))

    def vjp(self, g, out, a):
        q, r = self.unpack(out)
        g_q, g_r = self.unpack(g)
        rows, cols = value_of(a).shape[-2:]
        if self.q_shape[1] != min(rows, cols):
            raise ValueError("linalg.qr: mode='complete' with more rows than columns is not "
                             "differentiable (Q's extra columns are not unique; as in PyTorch)")
        if rows >= cols:
            return (_qr_grad_tall(q, r, g_q, g_r),)
        # wide: a = [x | y] with x square; R = [u | v], and y = Q v
        x_r = r[..., :, :rows]
        g_u, g_v = g_r[..., :, :rows], g_r[..., :, rows:]
        y = a[..., :, rows:]
        grad_x = _qr_grad_tall(q, x_r, g_q + y @ mT(g_v), g_u)
        return (concatenate([grad_x, q @ g_v], axis=-1),)

    def jvp(self, tangents, out, a):
        # the VJP's domain and split: for rows >= cols _qr_jvp_tall; for wide a = [x | y]
        # with R = [u | v], x = Q u is a square QR and v = Q^T y, so dv = dQ^T y + Q^T dy.
        # The forward's (NumPy's) signs of R's diagonal are locally constant, so the
        # tangent is that of the same branch
        t = tangents[0]
        rows, cols = t.shape[-2:]
        if self.params["mode"] == "complete" and rows > cols:
            raise ValueError("linalg.qr: mode='complete' with more rows than columns is not "
                             "differentiable (Q's extra columns are not unique; as in PyTorch)")
        count = min(rows, cols)
        self.q_shape, self.r_shape = (rows, count), (count, cols)   # forward ran elsewhere
        q, r = self.unpack(out)
        if rows >= cols:
            t_q, t_r = _qr_jvp_tall(q, r, t)
        else:
            t_q, t_u = _qr_jvp_tall(q, r[..., :, :rows], t[..., :, :rows])
            t_v = mT(t_q) @ a[..., :, rows:] + mT(q) @ t[..., :, rows:]
            t_r = concatenate([t_u, t_v], axis=-1)
        batch = tuple(t.shape[:-2])
        return concatenate([t_q.reshape(batch + (-1,)), t_r.reshape(batch + (-1,))], axis=-1)


def _qr_grad_tall(q, r, g_q, g_r):
    """The QR gradient for rows >= cols (TensorFlow's QrGrad, equal to PyTorch's):
    M = tril(Q^T gQ - gQ^T Q + R gR^T - gR R^T); gA = (Q (gR + M R^-T)) + (gQ - Q Q^T gQ) R^-T."""
    qdq = mT(q) @ g_q
    rdr = r @ mT(g_r)
    lower = tril(qdq - mT(qdq) + rdr - mT(rdr))
    right = g_q - q @ qdq
    # X R^-T == (R^-1 X^T)^T
    return q @ (g_r + mT(solve(r, mT(lower)))) + mT(solve(r, mT(right)))


def _qr_jvp_tall(q, r, t):
    """The QR tangent for rows >= cols (PyTorch's linalg_qr_jvp): with C = Q^T dA R^-1,
    Q^T dQ is skew and dR R^-1 upper triangular, so their sum C fixes the skew part
    Omega = tril(C, -1) - tril(C, -1)^T; dR = (C - Omega) R and
    dQ = dA R^-1 - Q (C - Omega) = (I - Q Q^T) dA R^-1 + Q Omega."""
    # inv rather than solve: inv batches under vmap, solve runs once per element there
    t_r_inv = t @ inv(r)
    c = mT(q) @ t_r_inv
    lower = tril(c, -1)
    upper = c - (lower - mT(lower))
    return t_r_inv - q @ upper, upper @ r


def _qr_sample(st):
    return st.st.tuples(st.spectral_matrices(), st.st.sampled_from(["reduced", "r"])).map(
        lambda drawn: ((drawn[0],), {"mode": drawn[1]}))


def _torch_qr(torch, a, mode="reduced"):
    q, r = torch.linalg.qr(a)
    q_np, r_np = np.linalg.qr(a.detach().numpy())
    signs = torch.sign(torch.diagonal(r.detach(), dim1=-2, dim2=-1)) * torch.as_tensor(
        np.sign(np.diagonal(r_np, axis1=-2, axis2=-1)), dtype=r.dtype)
    q, r = q * signs.unsqueeze(-2), r * signs.unsqueeze(-1)
    return r if mode == "r" else (q, r)


@register("linalg.qr", public=False, numpy=np.linalg.qr, sample=_qr_sample,
          torch=_torch_qr)
def qr(a, mode="reduced"):
    """QR decomposition as NumPy's: ``QRResult(Q, R)`` for mode 'reduced' (default) or
    'complete', R alone for 'r'. Differentiable for full-rank input (the gradient uses
    R^-1); 'complete' with more rows than columns is not (as in PyTorch)."""
    check_matrix(a, "linalg.qr")
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    packed_op = _PackedQR
    packed = apply(packed_op, (a,), {"mode": "complete" if mode == "complete" else "reduced"})
    # logical shapes: under vmap, value_of (and np.shape) give the whole batch
    rows, cols = logical_shape(a)[-2:]
    q_cols = rows if mode == "complete" else min(rows, cols)
    batch = logical_shape(packed)[:-1]
    q = packed[..., :rows * q_cols].reshape(batch + (rows, q_cols))
    r = packed[..., rows * q_cols:].reshape(batch + (q_cols, cols))
    return r if mode == "r" else QRResult(q, r)


class _PackedSVD(Op):
    """U, S and Vh flattened and joined along the last axis."""
    name = "linalg.svd"
    batch_rule = batch_leading

    def forward(self, a, *, full_matrices, values_only=False):
        u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
        self.u_shape, self.vh_shape = u.shape[-2:], vh.shape[-2:]
        batch = u.shape[:-2]
        return np.concatenate([u.reshape(batch + (-1,)), s, vh.reshape(batch + (-1,))], axis=-1)

    def unpack(self, packed):
        u_size = self.u_shape[0] * self.u_shape[1]
        count = min(self.u_shape[0], self.vh_shape[1])
        batch = packed.shape[:-1]
        return (packed[..., :u_size].reshape(batch + self.u_shape),
                packed[..., u_size:u_size + count],
                packed[..., u_size + count:].reshape(batch + self.vh_shape))

    def vjp(self, g, out, a):
        u, s, vh = self.unpack(out)
        g_u, g_s, g_vh = self.unpack(g)
        rows, cols = value_of(a).shape[-2:]
        count = min(rows, cols)
        # full_matrices: the extra columns of U / rows of Vh are not unique; like PyTorch,
        # only the first min(m, n) take part in the gradient
        u, g_u = u[..., :, :count], g_u[..., :, :count]
        vh, g_vh = vh[..., :count, :], g_vh[..., :count, :]
        use_u, use_vh = not _unused(g_u), not _unused(g_vh)
        inner = _diag_embed(g_s)
        if use_u or use_vh:
            # PyTorch's svd_backward: E[i, j] = s[j]^2 - s[i]^2 (1 on the diagonal)
            eye = np.eye(count, dtype=value_of(s).dtype)
            squares = s * s
            gaps = expand_dims(squares, -2) - expand_dims(squares, -1) + eye
            off = 0.0
            if use_u:
                ut_gu = mT(u) @ g_u
                off = off + (ut_gu - mT(ut_gu)) * expand_dims(s, -2)
            if use_vh:
                vt_gv = vh @ mT(g_vh)
                off = off + expand_dims(s, -1) * (vt_gv - mT(vt_gv))
            inner = inner + off / gaps * (1.0 - eye)
        if rows > cols and use_u:
            scaled = g_u / expand_dims(s, -2)
            grad = (u @ inner + scaled - u @ (mT(u) @ scaled)) @ vh
        elif rows < cols and use_vh:
            scaled = g_vh / expand_dims(s, -1)
            grad = u @ (inner @ vh + scaled - (scaled @ mT(vh)) @ vh)
        else:
            grad = u @ inner @ vh
        return (grad,)

    def jvp(self, tangents, out, a):
        # PyTorch's linalg_svd_jvp, with dP = U^T da V (first min(m, n) columns of U and
        # rows of Vh), E[i, j] = s[j]^2 - s[i]^2 and sym(X) = X + X^T:
        #   dS = diag(dP); dU = U (sym(dX S) / E) [+ (I - U U^T) da V S^-1 when m > n];
        #   dVh = -(sym(S dX) / E) Vh [+ S^-1 U^T da (I - V V^T) when m < n],
        # dX being dP with its diagonal zeroed. Like the VJP, this fixes the gauge: each
        # singular vector pair keeps NumPy's sign, and with full_matrices the extra
        # columns of U / rows of Vh (not unique) get a zero tangent, as in PyTorch.
        t = tangents[0]
        rows, cols = t.shape[-2:]
        count = min(rows, cols)
        full = self.params["full_matrices"]
        self.u_shape = (rows, rows if full else count)
        self.vh_shape = (cols if full else count, cols)
        u, s, vh = self.unpack(out)
        u, vh = u[..., :, :count], vh[..., :count, :]
        batch, dtype = tuple(t.shape[:-2]), value_of(out).dtype
        if self.params.get("values_only"):
            # only S is returned: its tangent alone (finite even where values repeat);
            # the U and Vh slots of the packed output are never read
            t_s = sum((mT(u) @ t) * vh, axis=-1)
            return _packed_svd(np.zeros(batch + self.u_shape, dtype), t_s,
                               np.zeros(batch + self.vh_shape, dtype), batch)
        p = mT(u) @ t @ mT(vh)
        eye = np.eye(count, dtype=value_of(s).dtype)
        t_s = sum(p * eye, axis=-1)
        off = p * (1.0 - eye)
        squares = s * s
        gaps = expand_dims(squares, -2) - expand_dims(squares, -1) + eye
        scaled_columns = off * expand_dims(s, -2)                # dX S
        scaled_rows = expand_dims(s, -1) * off                   # S dX
        t_u = u @ ((scaled_columns + mT(scaled_columns)) / gaps)
        t_vh = -((scaled_rows + mT(scaled_rows)) / gaps) @ vh
        if rows > cols:
            t_v_s = (t @ mT(vh)) / expand_dims(s, -2)            # da V S^-1
            t_u = t_u + t_v_s - u @ (mT(u) @ t_v_s)
        elif rows < cols:
            s_u_t = (mT(u) / expand_dims(s, -1)) @ t             # S^-1 U^T da
            t_vh = t_vh + s_u_t - (s_u_t @ mT(vh)) @ vh
        extra_u, extra_vh = self.u_shape[1] - count, self.vh_shape[0] - count
        if extra_u:
            t_u = concatenate([t_u, np.zeros(batch + (rows, extra_u), dtype)], axis=-1)
        if extra_vh:
            t_vh = concatenate([t_vh, np.zeros(batch + (extra_vh, cols), dtype)], axis=-2)
        return _packed_svd(t_u, t_s, t_vh, batch)


def _packed_svd(u, s, vh, batch):
    """U, S and Vh flattened and joined, as ``_PackedSVD`` packs them."""
    return concatenate([u.reshape(batch + (-1,)), s, vh.reshape(batch + (-1,))], axis=-1)


def _svd_sample(st):
    def build(drawn):
        a, data = drawn
        square = a.shape[-1] == a.shape[-2]
        kwargs = {"full_matrices": data.draw(st.st.booleans()) if square else False}
        if data.draw(st.st.integers(0, 3)) == 0:
            kwargs["compute_uv"] = False
        return (a,), kwargs
    return st.st.tuples(st.spectral_matrices(), st.st.data()).map(build)


def _torch_svd(torch, a, full_matrices=True, compute_uv=True, hermitian=False):
    if not compute_uv:
        return torch.linalg.svdvals(a)
    u, s, vh = torch.linalg.svd(a, full_matrices=full_matrices)
    reference = torch.as_tensor(np.linalg.svd(a.detach().numpy(), full_matrices=full_matrices)[0])
    signs = torch.sign((u.detach() * reference).sum(dim=-2))
    signs = torch.where(signs == 0, torch.ones_like(signs), signs)
    return u * signs.unsqueeze(-2), s, vh * signs[..., :vh.shape[-2]].unsqueeze(-1)


@register("linalg.svd", public=False, numpy=np.linalg.svd, sample=_svd_sample,
          torch=_torch_svd)
def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """Singular value decomposition a = U diag(S) Vh as NumPy's: ``SVDResult(U, S, Vh)``
    (S descending), or S alone when ``compute_uv`` is False. ``hermitian`` is accepted
    and ignored (the general algorithm gives the same S).

    Gradients are PyTorch's: those of U and Vh divide by differences of squared singular
    values, so they are inf/NaN where singular values repeat, and (for rectangular input)
    by the singular values themselves; with ``full_matrices`` the extra columns of U /
    rows of Vh get no gradient. Gradients of S alone are always finite.
    """
    check_matrix(a, "linalg.svd")
    packed = apply(_PackedSVD, (a,), {"full_matrices": bool(full_matrices) and compute_uv,
                                      "values_only": not compute_uv})
    # logical shapes: under vmap, value_of (and np.shape) give the whole batch
    rows, cols = logical_shape(a)[-2:]
    count = min(rows, cols)
    u_cols = rows if full_matrices and compute_uv else count
    vh_rows = cols if full_matrices and compute_uv else count
    batch = logical_shape(packed)[:-1]
    u_size = rows * u_cols
    s = packed[..., u_size:u_size + count]
    if not compute_uv:
        return s
    return SVDResult(packed[..., :u_size].reshape(batch + (rows, u_cols)), s,
                     packed[..., u_size + count:].reshape(batch + (vh_rows, cols)))


cholesky, tril, expand_dims, concatenate, solve, inv, sum = functions(
    "linalg.cholesky", "tril", "expand_dims", "concatenate", "linalg.solve", "linalg.inv", "sum")
