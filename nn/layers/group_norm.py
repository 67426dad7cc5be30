"""GroupNorm: normalisation over groups of channels, independent of the batch."""
import numpy as np

from autograd import get_default_dtype

from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from ..validation import boolean, non_negative_float, positive_int
from .linear import input_shape


class GroupNorm(Module):
    """Split the C channels of (N, C, *) into ``num_groups`` groups and normalise each
    sample's group (biased variance, ``eps``); then, with ``affine``, scale and shift each
    channel (weight 1 and bias 0 at first, as PyTorch's)."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, dtype=None):
        super().__init__()
        num_groups = positive_int("GroupNorm", "num_groups", num_groups)
        num_channels = positive_int("GroupNorm", "num_channels", num_channels)
        eps = non_negative_float("GroupNorm", "eps", eps)
        affine = boolean("GroupNorm", "affine", affine)
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = (num_groups, num_channels,
                                                                     eps, affine)
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        if affine:
            self.weight = Parameter(np.ones(num_channels, dtype=dtype))
            self.bias = Parameter(np.zeros(num_channels, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self):
        """Weight 1, bias 0."""
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, x):
        shape = input_shape(x)
        if len(shape) < 2 or shape[1] != self.num_channels:
            raise ValueError(f"{self._error_name()} expected an input (N, {self.num_channels}, "
                             f"*), got shape {shape}")
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
