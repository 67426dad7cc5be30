"""Determinants: det and slogdet."""
from collections import namedtuple

import numpy as np

from ..batching import batch_leading
from ..op import Op, apply, functions, register, value_of
from ..tensor import Tensor
from .decompositions import svd
from .matrices import check_square, mT, singular

SlogdetResult = namedtuple("SlogdetResult", "sign logabsdet")


def _square_sample(st):
    return st.invertible_matrices().map(lambda a: ((a,), {}))


@register("linalg.det", public=False, numpy=np.linalg.det, sample=_square_sample,
          torch=lambda torch, a: torch.linalg.det(a))
class Det(Op):
    """Determinant. Its gradient is the cofactor matrix, det(a) inv(a)^T; for a singular
    matrix (det exactly 0) the cofactor comes from the SVD instead,
    det(U) det(Vh) U diag(prod of the other singular values) Vh, which stays finite
    (for rank n - 1 it is the only nonzero term)."""
    batch_rule = batch_leading
    def forward(self, a):
        check_square(a, "linalg.det")
        return np.linalg.det(a)

    def vjp(self, g, out, a):
        scale = expand_dims(expand_dims(g, -1), -1)
        if np.all(value_of(out) != 0):
            return (scale * expand_dims(expand_dims(out, -1), -1) * mT(inv(a)),)
        u, s, vh = svd(a)
        signs = np.linalg.det(value_of(u)) * np.linalg.det(value_of(vh))
        cofactor = (u * expand_dims(prod_others(s), -2)) @ vh
        return (scale * signs[..., None, None] * cofactor,)

    def jvp(self, tangents, out, a):
        # d det = <cofactor(a), da>: the VJP's cofactor (from the SVD where det is 0), so
        # the tangent is exactly the transpose of the gradient, singular input included
        (cofactor,) = self.vjp(np.ones(out.shape, dtype=out.dtype), out, a)
        return sum(cofactor * tangents[0], axis=(-2, -1))


class _LogAbsDet(Op):
    """log |det(a)|; its gradient is inv(a)^T (a singular matrix raises LinAlgError)."""
    name = "linalg.slogdet"

    def forward(self, a):
        return np.linalg.slogdet(a)[1]

    def vjp(self, g, out, a):
        if np.any(np.isneginf(value_of(out))):
            raise singular("linalg.slogdet (gradient)", a)
        return (expand_dims(expand_dims(g, -1), -1) * mT(inv(a)),)

    def jvp(self, tangents, out, a):
        # d log|det a| = tr(a^-1 da); singular input raises, as the gradient does
        if np.any(np.isneginf(value_of(out))):
            raise singular("linalg.slogdet (tangent)", a)
        return sum(mT(inv(a)) * tangents[0], axis=(-2, -1))


@register("linalg.slogdet", public=False, numpy=np.linalg.slogdet, sample=_square_sample,
          torch=lambda torch, a: tuple(torch.linalg.slogdet(a)))
def slogdet(a):
    """Sign and natural log of |det(a)|, as ``SlogdetResult(sign, logabsdet)``: stable
    where det itself would over- or underflow. The sign records no gradient. A singular
    matrix gives sign 0 and logabsdet -inf, and asking for its gradient raises
    LinAlgError (as PyTorch's does)."""
    check_square(a, "linalg.slogdet")
    sign = Tensor(np.linalg.slogdet(value_of(a))[0])
    return SlogdetResult(sign, apply(_LogAbsDet, (a,)))


det, expand_dims, prod_others, inv, sum = functions("linalg.det", "expand_dims", "prod_others",
                                                  "linalg.inv", "sum")
