"""The conv family's functional forms with PyTorch's signatures (re-exported by
``nn.functional``): 1-d and transposed convolutions, 1-d and adaptive pooling, group
normalisation, interpolation and channel-wise dropout. Inputs without a batch axis are
one sample, as in PyTorch."""
import numpy as np

from autograd import Tensor

from . import init
from .ops.conv_variants import (conv1d as _conv1d, conv_transpose1d as _conv_transpose1d,
                                conv_transpose2d as _conv_transpose2d)
from .ops.group_norm import group_norm as _group_norm
from .ops.interpolate import interpolate as _interpolate
from .ops.pooling_variants import (adaptive_avg_pool1d as _adaptive_avg_pool1d,
                                   adaptive_avg_pool2d as _adaptive_avg_pool2d,
                                   avg_pool1d as _avg_pool1d, max_pool1d as _max_pool1d)


def _ndim(value):
    return np.ndim(value.data if isinstance(value, Tensor) else value)


def _per_sample(function, input, batched_rank, *args, **kwargs):
    """``function`` on a batch; an input one rank short is one sample (batch of one)."""
    if _ndim(input) == batched_rank - 1:
        return function(input[None], *args, **kwargs)[0]
    return function(input, *args, **kwargs)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d cross-correlation of (N, C_in, L) or (C_in, L) with weight (C_out, C_in/groups, k)."""
    return _per_sample(_conv1d, input, 3, weight, bias, stride=stride, padding=padding,
                       dilation=dilation, groups=groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 1-d convolution; weight (C_in, C_out/groups, k)."""
    return _per_sample(_conv_transpose1d, input, 3, weight, bias, stride=stride,
                       padding=padding, output_padding=output_padding, groups=groups,
                       dilation=dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 2-d convolution ("deconvolution"); weight (C_in, C_out/groups, kh, kw)."""
    return _per_sample(_conv_transpose2d, input, 4, weight, bias, stride=stride,
                       padding=padding, output_padding=output_padding, groups=groups,
                       dilation=dilation)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Maximum over each window of (N, C, L) or (C, L); stride defaults to kernel_size."""
    return _per_sample(_max_pool1d, input, 3, kernel_size=kernel_size, stride=stride,
                       padding=padding, dilation=dilation, ceil_mode=ceil_mode)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Mean over each window of (N, C, L) or (C, L); stride defaults to kernel_size."""
    return _per_sample(_avg_pool1d, input, 3, kernel_size=kernel_size, stride=stride,
                       padding=padding, ceil_mode=ceil_mode, count_include_pad=count_include_pad)


def adaptive_avg_pool1d(input, output_size):
    """Average over ``output_size`` adaptive bins of (N, C, L) or (C, L)."""
    return _adaptive_avg_pool1d(input, output_size=output_size)


def adaptive_avg_pool2d(input, output_size):
    """Average over ``output_size`` (int or pair; None keeps a side) adaptive bins."""
    return _adaptive_avg_pool2d(input, output_size=output_size)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise each sample over groups of channels, then scale and shift per channel."""
    return _group_norm(input, weight, bias, num_groups=num_groups, eps=eps)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None):
    """Resample (N, C, L) or (N, C, H, W): mode "nearest", "linear" or "bilinear"."""
    return _interpolate(input, size=size, scale_factor=scale_factor, mode=mode,
                        align_corners=align_corners,
                        recompute_scale_factor=recompute_scale_factor)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels: each (sample, channel) map of (N, C, H, W) is dropped with
    probability ``p`` and the kept ones scaled by 1 / (1 - p); the identity when not
    training. A 3-d input is (N, C, L), as PyTorch 2.13 reads it. ``inplace`` is accepted
    for PyTorch compatibility; the result is always a new tensor."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout2d: probability has to be between 0 and 1, but got {p}")
    shape = np.shape(input.data if isinstance(input, Tensor) else input)
    if len(shape) not in (3, 4):
        raise ValueError(f"dropout2d: expected a 4-d input (N, C, H, W) or a 3-d one "
                         f"(N, C, L), got shape {shape}")
    p = float(p)
    if not training or p == 0.0:
        return input
    dtype = np.result_type(input.dtype, np.float32)
    mask_shape = shape[:2] + (1,) * (len(shape) - 2)
    if p == 1.0:
        scaled_mask = np.zeros(mask_shape, dtype=dtype)
    else:
        keep = init.default_generator().random(mask_shape, dtype=np.float32) < 1.0 - p
        scaled_mask = keep.astype(dtype) * (1.0 / (1.0 - p))
    return input * scaled_mask
