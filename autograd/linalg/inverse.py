"""Inverses and linear solves: inv, solve, pinv, lstsq, matrix_power."""
import numpy as np

from ..batching import batch_leading, logical_ndim, logical_shape, with_rank
from ..op import Op, apply, functions, register, value_of
from ..tensor import Tensor
from .matrices import check_matrix, check_square, mT, singular


@register("linalg.inv", public=False, numpy=np.linalg.inv,
          sample=lambda st: st.invertible_matrices().map(lambda a: ((a,), {})),
          torch=lambda torch, a: torch.linalg.inv(a))
class Inv(Op):
    """Inverse of a square matrix (or of each in a stack). d inv = -inv da inv, so the
    gradient is -inv^T g inv^T. Raises LinAlgError (a ValueError) for a singular matrix."""
    batch_rule = batch_leading
    def forward(self, a):
        check_square(a, "linalg.inv")
        try:
            return np.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise singular("linalg.inv", a) from None

    def vjp(self, g, out, a):
        inverse_t = mT(out)
        return (-(inverse_t @ g @ inverse_t),)

    def jvp(self, tangents, out, a):
        return -(out @ tangents[0] @ out)


def _solve_sample(st):
    def build(drawn):
        a, data = drawn
        side = a.shape[-1]
        if data.draw(st.st.booleans()):
            b = data.draw(st.arrays((side,)))
        else:
            b = data.draw(st.arrays(a.shape[:-2] + (side, data.draw(st.st.integers(1, 3)))))
        return (a, b), {}
    return st.st.tuples(st.invertible_matrices(), st.st.data()).map(build)


def batch_solve(op_cls, values, batched, params, size):
    """``solve`` under vmap, in one call. The per-element rank of ``b`` says vector or
    matrix, as in the unbatched forward; a batched vector would look like a stack of
    matrices to np.linalg.solve, so vectors are solved as (n, 1) matrices."""
    a, b = values
    a_batched, b_batched = batched
    _check_element_shapes(logical_shape(a)[a_batched:], logical_shape(b)[b_batched:])
    vector = logical_ndim(b) - b_batched == 1
    if not a_batched and logical_ndim(a) == 2:
        return _solve_folded(op_cls, a, b, vector, params)
    if vector:
        b = expand_dims(b, -1)
    rank = max(logical_ndim(a) - a_batched, logical_ndim(b) - b_batched)
    a = with_rank(a, rank) if a_batched else a
    b = with_rank(b, rank) if b_batched else b
    out = apply(op_cls, (a, b), params)
    return out[..., 0] if vector else out


def _check_element_shapes(a_shape, b_shape):
    """The forward's checks on the shapes of one element, which errors should name (the
    batched call would see the batch's shapes)."""
    if len(a_shape) < 2 or a_shape[-1] != a_shape[-2]:
        raise ValueError(f"linalg.solve: a must be a square matrix (or a stack of them in the "
                         f"last two axes), got shape {a_shape}")
    rows = b_shape[0] if len(b_shape) == 1 else (b_shape[-2] if len(b_shape) >= 2 else None)
    if rows != a_shape[-1]:
        raise ValueError(f"linalg.solve: b of shape {b_shape} does not match a of shape "
                         f"{a_shape} (b needs {a_shape[-1]} rows)")


def _solve_folded(op_cls, a, b, vector, params):
    """One (n, n) matrix for the whole batch: every batched right-hand side becomes
    columns of one (n, m) matrix, so the matrix is factorized once, not once per element."""
    shape = logical_shape(b)
    row_axis = len(shape) - (1 if vector else 2)
    order = (row_axis,) + tuple(d for d in range(len(shape)) if d != row_axis)
    moved = tuple(shape[d] for d in order)
    columns = reshape(transpose(b, order), (moved[0], int(np.prod(moved[1:], dtype=int))))
    x = apply(op_cls, (a, columns), params)
    return transpose(reshape(x, moved), tuple(int(d) for d in np.argsort(order)))


@register("linalg.solve", public=False, numpy=np.linalg.solve, sample=_solve_sample,
          torch=lambda torch, a, b: torch.linalg.solve(a, b))
class Solve(Op):
    """x with a @ x = b. As in NumPy 2, a 1-D ``b`` is one vector; otherwise ``b`` is a
    stack of (n, k) matrices. Raises LinAlgError (a ValueError) when ``a`` is singular."""
    batch_rule = batch_solve
    def forward(self, a, b):
        check_square(a, "linalg.solve")
        a, b = np.asarray(a), np.asarray(b)
        self.vector = b.ndim == 1
        rows = b.shape[0] if self.vector else (b.shape[-2] if b.ndim >= 2 else None)
        if rows != a.shape[-1]:
            raise ValueError(f"linalg.solve: b of shape {b.shape} does not match a of shape "
                             f"{a.shape} (b needs {a.shape[-1]} rows)")
        try:
            return np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            raise singular("linalg.solve", a) from None

    def vjp(self, g, out, a, b):
        # b = a x: grad_b = a^-T g, grad_a = -grad_b x^T
        if self.vector:
            grad_b = solve(mT(a), expand_dims(g, -1))
            grad_a = -(grad_b * expand_dims(out, -2)) if self.needs_grad[0] else None
            return grad_a, (grad_b[..., 0] if self.needs_grad[1] else None)
        grad_b = solve(mT(a), g)
        grad_a = -(grad_b @ mT(out)) if self.needs_grad[0] else None
        return grad_a, (grad_b if self.needs_grad[1] else None)

    def jvp(self, tangents, out, a, b):
        # dx = a^-1 (db - da x). db alone keeps b's vector/matrix reading; with da the
        # right-hand side is built as columns, so a batched x is never taken for a matrix.
        t_a, t_b = tangents
        if t_a is None:
            return solve(a, t_b)
        vector = len(b.shape if hasattr(b, "shape") else np.shape(b)) == 1
        columns = -(t_a @ (expand_dims(out, -1) if vector else out))
        if t_b is not None:
            columns = columns + (expand_dims(t_b, -1) if vector else t_b)
        tangent = solve(a, columns)
        return tangent[..., 0] if vector else tangent


def _full_rank_sample(st):
    return st.spectral_matrices().map(lambda a: ((a,), {}))


@register("linalg.pinv", public=False, numpy=np.linalg.pinv, sample=_full_rank_sample,
          torch=lambda torch, a, rcond=None: torch.linalg.pinv(a))
class Pinv(Op):
    """Moore-Penrose pseudo-inverse (singular values at most ``rcond`` times the largest
    count as zero; NumPy's default). The gradient is PyTorch's closed form, valid where the
    rank does not change under small perturbations (it jumps where it does):
    dP = -P da P + P P^T da^T (I - a P) + (I - P a) da^T P^T P."""
    batch_rule = batch_leading
    def forward(self, a, *, rcond=None):
        check_matrix(a, "linalg.pinv")
        return np.linalg.pinv(a) if rcond is None else np.linalg.pinv(a, rcond=rcond)

    def vjp(self, g, out, a):
        p, pt, gt = out, mT(out), mT(g)
        gt_p_pt = gt @ p @ pt          # (m, n)
        pt_p_gt = pt @ (p @ gt)        # (m, n)
        grad = -(pt @ g @ pt) + gt_p_pt - a @ (p @ gt_p_pt) + pt_p_gt - (pt_p_gt @ p) @ a
        return (grad,)

    def jvp(self, tangents, out, a):
        # Golub and Pereyra: dP = -P da P + P P^T da^T (I - a P) + (I - P a) da^T P^T P,
        # grouped so that no (m, m) or (n, n) identity is formed
        p, t_t = out, mT(tangents[0])
        row_side = t_t - (t_t @ a) @ p                  # da^T (I - a P)
        column_side = t_t @ (mT(p) @ p)                 # da^T P^T P
        column_side = column_side - p @ (a @ column_side)
        return -(p @ tangents[0] @ p) + (p @ mT(p)) @ row_side + column_side


def _lstsq_sample(st):
    def build(drawn):
        a, data = drawn
        rows = a.shape[-2]
        columns = data.draw(st.st.integers(0, 3))
        b_shape = (rows,) if columns == 0 else (rows, columns)
        return (a, data.draw(st.arrays(b_shape))), {}
    return st.st.tuples(st.spectral_matrices(batch=()), st.st.data()).map(build)


def _torch_lstsq(torch, a, b, rcond=None):
    column = b.unsqueeze(-1) if b.ndim == 1 else b
    x = torch.linalg.pinv(a) @ column
    rank = torch.linalg.matrix_rank(a)
    rows, cols = a.shape
    if int(rank) == cols and rows > cols:
        residuals = ((column - a @ x) ** 2).sum(dim=0)
    else:
        residuals = torch.zeros(0, dtype=a.dtype)
    return (x[:, 0] if b.ndim == 1 else x), residuals, rank, torch.linalg.svdvals(a)


@register("linalg.lstsq", public=False, numpy=np.linalg.lstsq, sample=_lstsq_sample,
          torch=_torch_lstsq)
def lstsq(a, b, rcond=None):
    """Least-squares solution of a @ x = b, as NumPy's: ``(x, residuals, rank, s)`` with
    x = pinv(a) @ b (singular values at most rcond times the largest are dropped; None
    means machine epsilon times max(M, N)), residuals the squared error per column when
    a has full column rank and more rows than columns (else empty), rank a 0-d integer
    Tensor, s the singular values. x, residuals and s are differentiable."""
    check_matrix(a, "linalg.lstsq")
    a_shape, b_shape = np.shape(value_of(a)), np.shape(value_of(b))
    if len(a_shape) != 2 or len(b_shape) not in (1, 2) or b_shape[0] != a_shape[0]:
        raise ValueError(f"linalg.lstsq: expected a of shape (M, N) and b of shape (M,) or "
                         f"(M, K), got {a_shape} and {b_shape}")
    rows, cols = a_shape
    cutoff = np.finfo(np.result_type(value_of(a), np.float32)).eps * max(rows, cols) \
        if rcond is None else rcond
    svd, = functions("linalg.svd")  # decompositions.py itself uses solve from here
    s = svd(a, compute_uv=False)
    values = value_of(s)
    rank = int(np.sum(values > cutoff * values.max())) if values.size else 0
    column = expand_dims(b, -1) if len(b_shape) == 1 else b
    x = pinv(a, rcond=cutoff) @ column
    if rank == cols and rows > cols:
        residuals = ((column - a @ x) ** 2).sum(axis=0)
    else:
        residuals = Tensor(np.zeros(0, dtype=values.dtype))
    return (x[:, 0] if len(b_shape) == 1 else x), residuals, Tensor(np.int64(rank)), s


def _matrix_power_sample(st):
    return st.st.tuples(st.invertible_matrices(), st.st.integers(-3, 4)).map(
        lambda drawn: ((drawn[0] / (drawn[0].shape[-1] + 1.0), drawn[1]), {}))


@register("linalg.matrix_power", public=False, numpy=np.linalg.matrix_power,
          sample=_matrix_power_sample,
          torch=lambda torch, a, n: torch.linalg.matrix_power(a, n))
def matrix_power(a, n):
    """a @ a @ ... (n times) by repeated squaring; n = 0 gives the identity (with a zero
    gradient), n < 0 powers of inv(a)."""
    check_square(a, "linalg.matrix_power")
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"linalg.matrix_power: n must be an int, got {n!r}")
    if n == 0:
        side = np.shape(value_of(a))[-1]
        return a * 0.0 + np.eye(side, dtype=value_of(a).dtype)
    base = inv(a) if n < 0 else a
    n, result = abs(int(n)), None
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return result


inv, solve, pinv, expand_dims, reshape, transpose = functions(
    "linalg.inv", "linalg.solve", "linalg.pinv", "expand_dims", "reshape", "transpose")
