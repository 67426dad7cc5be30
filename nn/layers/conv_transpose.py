"""ConvTranspose1d and ConvTranspose2d: transposed convolutions ("deconvolutions")."""
import numpy as np

from autograd import get_default_dtype

from .. import functional as F
from ..module import Module
from ..parameter import Parameter
from ..ops.conv_variants import single
from ..ops.windows import pair
from .conv import check_conv_arguments
from .conv1d import check_channels
from .linear import check_dtype, check_size, input_shape, reset_affine


class _ConvTranspose(Module):
    """Shared by the 1-d and 2-d layers: the gradient of a convolution with respect to its
    input, as a layer. The weight is (C_in, C_out / groups, *kernel), PyTorch's layout,
    and starts as PyTorch's: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in =
    C_out / groups * kernel area (PyTorch reads the weight's second axis as fan in)."""

    rank = 0

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 dtype=None):
        super().__init__()
        name = type(self).__name__
        in_channels, out_channels, groups, bias = check_conv_arguments(
            name, in_channels, out_channels, groups, bias, padding_mode)
        as_tuple = ((lambda value, what, minimum=1: (single(value, what, name, minimum),))
                    if self.rank == 1 else
                    (lambda value, what, minimum=1: pair(value, what, name, minimum)))
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = as_tuple(kernel_size, "kernel_size")
        self.stride = as_tuple(stride, "stride")
        self.padding = as_tuple(padding, "padding", 0)
        self.output_padding = as_tuple(output_padding, "output_padding", 0)
        self.dilation = as_tuple(dilation, "dilation")
        for o, s, d in zip(self.output_padding, self.stride, self.dilation):
            if o >= max(s, d):
                raise ValueError(f"{name}: output_padding must be smaller than stride or "
                                 f"dilation, got output_padding={output_padding}, "
                                 f"stride={stride}, dilation={dilation}")
        self.padding_mode = padding_mode
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        self.weight = Parameter(np.empty((in_channels, out_channels // groups) + self.kernel_size,
                                         dtype=dtype))
        if bias:  # one entry per output channel (the weight's rows are input channels)
            self.bias = Parameter(np.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw the default initial weights again."""
        reset_affine(self.weight, self.bias)

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        zeros = (0,) * self.rank
        if self.padding != zeros:
            text += f", padding={self.padding}"
        if self.output_padding != zeros:
            text += f", output_padding={self.output_padding}"
        if self.dilation != (1,) * self.rank:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class ConvTranspose1d(_ConvTranspose):
    """Transposed 1-d convolution: (N, C_in, L) or (C_in, L) -> (N, C_out, L_out),
    L_out = (L - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1."""

    rank = 1

    def forward(self, x):
        check_channels(self, x, self.in_channels, "({}, L)")
        check_dtype(self, x, self.weight)
        return F.conv_transpose1d(x, self.weight, self.bias, self.stride[0], self.padding[0],
                                  self.output_padding[0], self.groups, self.dilation[0])


class ConvTranspose2d(_ConvTranspose):
    """Transposed 2-d convolution: (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out,
    W_out), H_out = (H - 1) * stride - 2 * padding + dilation * (kh - 1) + output_padding + 1."""

    rank = 2

    def forward(self, x):
        shape = input_shape(x)
        if len(shape) not in (3, 4):
            raise ValueError(f"{self._error_name()} expected a 4-d input (N, C, H, W) or a "
                             f"3-d one (C, H, W), got shape {shape}")
        check_size(self, x, len(shape) - 3, self.in_channels,
                   f"{self.in_channels} channels on axis {len(shape) - 3}")
        check_dtype(self, x, self.weight)
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                  self.output_padding, self.groups, self.dilation)
