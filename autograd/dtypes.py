"""Default floating dtype for tensors made from Python data (float32, as in PyTorch)."""
import numpy as np

_default_dtype = np.dtype(np.float32)
FLOATING_KINDS = ("f",)
NUMERIC_KINDS = "biufc"


def get_default_dtype():
    """The dtype given to floating tensors created from Python data."""
    return _default_dtype


def set_default_dtype(dtype):
    """Set the dtype for floating tensors created from Python data: float32 or float64."""
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64, np.float16):
        raise TypeError(f"set_default_dtype: expected a floating dtype (float16/32/64), got {dtype}")
    _default_dtype = dtype


def is_floating(dtype):
    return dtype.kind in FLOATING_KINDS


def as_array(data, dtype=None):
    """Convert ``data`` to an ndarray; Python floats take the default dtype, ndarrays keep theirs."""
    if isinstance(data, np.ndarray):
        array = data if dtype is None else data.astype(dtype, copy=False)
    elif isinstance(data, np.generic):
        array = np.asarray(data, dtype=dtype)
    else:
        array = np.asarray(data, dtype=dtype)
        if dtype is None and array.dtype == np.float64:
            array = array.astype(_default_dtype)
    if array.dtype.kind not in NUMERIC_KINDS:
        raise TypeError(f"cannot make a tensor from {type(data).__name__} of dtype "
                        f"{array.dtype}: tensors hold numbers (bool, integer, float or "
                        f"complex), not numbers such as strings, bytes or Python objects")
    return array
