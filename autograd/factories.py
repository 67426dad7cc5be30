"""Ways to make tensors: from data, filled, ranges and random (seeded)."""
import numpy as np

from .dtypes import as_array, get_default_dtype
from .tensor import Tensor

__all__ = ["tensor", "from_numpy", "zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "arange",
           "linspace", "eye", "rand", "randn", "manual_seed", "default_generator"]

default_generator = np.random.default_rng()


def manual_seed(seed):
    """Seed the generator behind ``rand``/``randn`` (and nn's initialisation and dropout)."""
    global default_generator
    default_generator = np.random.default_rng(seed)
    return default_generator


def tensor(data, dtype=None, requires_grad=False):
    """A new Tensor holding a copy of ``data`` (Python floats take the default dtype)."""
    if isinstance(data, Tensor):
        data = data.data
    return Tensor(np.array(as_array(data, dtype), copy=True), requires_grad=requires_grad)


def from_numpy(array):
    """A Tensor sharing ``array``'s memory and dtype (PyTorch's ``torch.from_numpy``)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def _dtype(dtype):
    return get_default_dtype() if dtype is None else np.dtype(dtype)


def zeros(*shape, dtype=None, requires_grad=False):
    return Tensor(np.zeros(_shape(shape), _dtype(dtype)), requires_grad=requires_grad)


def ones(*shape, dtype=None, requires_grad=False):
    return Tensor(np.ones(_shape(shape), _dtype(dtype)), requires_grad=requires_grad)


def full(shape, fill_value, dtype=None, requires_grad=False):
    return Tensor(np.full(_shape((shape,)), fill_value, _dtype(dtype)), requires_grad=requires_grad)


def zeros_like(x, dtype=None, requires_grad=False):
    return Tensor(np.zeros_like(np.asarray(x), dtype=dtype), requires_grad=requires_grad)


def ones_like(x, dtype=None, requires_grad=False):
    return Tensor(np.ones_like(np.asarray(x), dtype=dtype), requires_grad=requires_grad)


def full_like(x, fill_value, dtype=None, requires_grad=False):
    return Tensor(np.full_like(np.asarray(x), fill_value, dtype=dtype), requires_grad=requires_grad)


def arange(start, stop=None, step=1, dtype=None):
    return Tensor(np.arange(start, stop, step, dtype=dtype))


def linspace(start, stop, num=50, dtype=None):
    return Tensor(np.linspace(start, stop, num, dtype=_dtype(dtype)))


def eye(n, m=None, dtype=None):
    return Tensor(np.eye(n, m, dtype=_dtype(dtype)))


def rand(*shape, dtype=None, requires_grad=False):
    """Uniform [0, 1) samples from the seeded default generator."""
    data = default_generator.random(_shape(shape)).astype(_dtype(dtype), copy=False)
    return Tensor(data, requires_grad=requires_grad)


def randn(*shape, dtype=None, requires_grad=False):
    """Standard normal samples from the seeded default generator."""
    data = default_generator.standard_normal(_shape(shape)).astype(_dtype(dtype), copy=False)
    return Tensor(data, requires_grad=requires_grad)


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not all(isinstance(n, (int, np.integer)) and n >= 0 for n in shape):
        raise ValueError(f"shape: expected non-negative integers, got {shape}")
    return tuple(int(n) for n in shape)
