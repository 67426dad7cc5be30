"""Parameter initialisation, in place, with PyTorch's formulas and names.

Random draws come from autograd's seeded default generator (``nn.manual_seed``), or
from ``generator=`` (a ``numpy.random.Generator``), so a run is reproducible. Values are
drawn in float64 and cast, so the same seed gives the same numbers in any dtype.
"""
import math

import numpy as np

from autograd import Tensor, factories
from autograd import no_grad

__all__ = ["calculate_gain", "constant_", "zeros_", "ones_", "eye_", "normal_", "uniform_",
           "trunc_normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_"]

_LINEAR_GAINS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                 "conv_transpose2d", "conv_transpose3d", "sigmoid")


def default_generator():
    """The generator behind initialisation and dropout (re-seeded by ``nn.manual_seed``)."""
    return factories.default_generator


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for ``nonlinearity``, as PyTorch: 1 for linear/conv/sigmoid,
    5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + a^2)) for leaky_relu (a = ``param``,
    default 0.01), 3/4 for selu."""
    if nonlinearity in _LINEAR_GAINS:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1.0 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4.0
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _fill(tensor, values, name):
    """Write ``values`` into ``tensor`` in place (no graph) and return the tensor."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: expected a Tensor or Parameter, got {type(tensor).__name__}")
    with no_grad():
        tensor.data[...] = values
    return tensor


def _generator(generator):
    return default_generator() if generator is None else generator


def calculate_fan_in_and_fan_out(tensor, name="init"):
    """(fan_in, fan_out) of a weight: (shape[1], shape[0]) times the kernel size."""
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(f"{name}: fan in and fan out cannot be computed for a tensor with "
                         f"fewer than 2 dimensions (shape {shape})")
    receptive_field = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive_field, shape[0] * receptive_field


def _fan(tensor, mode, name):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{name}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor, name)
    return fan_in if mode == "fan_in" else fan_out


def constant_(tensor, val):
    """Fill with ``val``."""
    return _fill(tensor, val, "constant_")


def zeros_(tensor):
    """Fill with 0."""
    return _fill(tensor, 0, "zeros_")


def ones_(tensor):
    """Fill with 1."""
    return _fill(tensor, 1, "ones_")


def eye_(tensor):
    """The identity matrix (a 2-d tensor)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: expected a 2-d tensor, got shape {tensor.shape}")
    return _fill(tensor, np.eye(*tensor.shape), "eye_")


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with samples of U(a, b)."""
    return _fill(tensor, _generator(generator).uniform(a, b, tensor.shape), "uniform_")


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with samples of N(mean, std^2)."""
    return _fill(tensor, _generator(generator).normal(mean, std, tensor.shape), "normal_")


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std^2) samples restricted to [a, b] (redrawn until inside)."""
    rng = _generator(generator)
    values = rng.normal(mean, std, tensor.shape)
    outside = (values < a) | (values > b)
    while outside.any():
        values[outside] = rng.normal(mean, std, int(outside.sum()))
        outside = (values < a) | (values > b)
    return _fill(tensor, values, "trunc_normal_")


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot uniform: U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor, "xavier_uniform_")
    bound = gain * math.sqrt(6.0 / float(fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot normal: N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor, "xavier_normal_")
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He uniform: U(-b, b), b = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a)."""
    fan = _fan(tensor, mode, "kaiming_uniform_")
    if fan == 0:
        return tensor
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He normal: N(0, std^2), std = gain / sqrt(fan), gain = calculate_gain(nonlinearity, a)."""
    fan = _fan(tensor, mode, "kaiming_normal_")
    if fan == 0:
        return tensor
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan), generator)
