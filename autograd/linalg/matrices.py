"""Shape checks and small helpers shared by the linear-algebra ops."""
import numpy as np


def check_square(a, op_name, argument="a"):
    """Raise ValueError unless ``a`` is a square matrix or a stack of them."""
    shape = np.shape(a)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(f"{op_name}: {argument} must be a square matrix (or a stack of them "
                         f"in the last two axes), got shape {shape}")


def check_matrix(a, op_name, argument="a"):
    """Raise ValueError unless ``a`` has at least two axes."""
    shape = np.shape(a)
    if len(shape) < 2:
        raise ValueError(f"{op_name}: {argument} must be a matrix (or a stack of them in the "
                         f"last two axes), got shape {shape}")


def singular(op_name, a, argument="a"):
    """The LinAlgError for a singular input, naming the op, argument and shape."""
    return np.linalg.LinAlgError(f"{op_name}: {argument} of shape {np.shape(a)} is singular "
                                 f"(not invertible)")


def mT(x):
    """Swap the last two axes (ndarray or Tensor)."""
    return x.swapaxes(-1, -2)


def symmetrized(a):
    """(a + a^T) / 2 of an ndarray."""
    a = np.asarray(a)
    return (a + np.swapaxes(a, -1, -2)) * 0.5
