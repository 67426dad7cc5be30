"""Linear algebra on Tensors: ``ag.linalg.inv(x)``, and ``np.linalg.inv(x)`` dispatches here.

Every function is a registered op (names ``linalg.<function>``), so its gradient is
checked against finite differences, second order and PyTorch like any other op.
Gradients follow PyTorch's formulas, including their documented degenerate cases:
    inv, solve, slogdet: singular matrices raise ``LinAlgError`` (a ValueError) naming
        the op and the shape; det is defined there (its gradient uses the SVD).
    eigh, svd: eigenvector / singular-vector gradients divide by differences of
        eigenvalues / singular values, so they are inf or NaN where those repeat
        (gradients of the values alone stay finite).
    cholesky, eigh: the input is symmetrized, (a + a^T) / 2, before decomposing (as
        JAX does), which equals NumPy's result for symmetric input; the gradient is
        then the symmetric one PyTorch returns.
"""
from numpy.linalg import LinAlgError

from .inverse import inv, lstsq, matrix_power, pinv, solve
from .determinant import det, slogdet
from .decompositions import cholesky, eigh, qr, svd
from .norms import norm

__all__ = ["LinAlgError", "inv", "solve", "pinv", "lstsq", "matrix_power", "det", "slogdet",
           "cholesky", "eigh", "qr", "svd", "norm"]
