"""Conv2d: 2-d convolution (cross-correlation) over NCHW inputs."""
from .. import functional as F
from ..module import Module
from ..ops.windows import pair
from ..validation import boolean, positive_int
from .linear import add_affine_parameters, check_dtype, check_size, input_shape, reset_affine


def check_conv_arguments(name, in_channels, out_channels, groups, bias, padding_mode):
    """The argument checks every convolution layer shares; returns the checked
    (in_channels, out_channels, groups, bias)."""
    in_channels = positive_int(name, "in_channels", in_channels)
    out_channels = positive_int(name, "out_channels", out_channels)
    groups = positive_int(name, "groups", groups)
    bias = boolean(name, "bias", bias)
    if padding_mode != "zeros":
        raise ValueError(f"{name}: only padding_mode='zeros' is supported, got {padding_mode!r}")
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels "
                         f"({out_channels}) must be divisible by groups ({groups})")
    return in_channels, out_channels, groups, bias


class Conv2d(Module):
    """2-d convolution: input (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out).

    Args as PyTorch's: kernel_size, stride, dilation (int or pair), padding (int, pair,
    "valid" or "same"), groups (C_in and C_out divisible by it), bias. The weight
    (C_out, C_in / groups, kh, kw) and bias start as PyTorch's:
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C_in / groups * kh * kw.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", dtype=None):
        super().__init__()
        in_channels, out_channels, groups, bias = check_conv_arguments(
            "Conv2d", in_channels, out_channels, groups, bias, padding_mode)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = pair(kernel_size, "kernel_size", "Conv2d")
        self.stride = pair(stride, "stride", "Conv2d")
        self.dilation = pair(dilation, "dilation", "Conv2d")
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"Conv2d: padding must be an int, a pair, 'valid' or 'same', "
                                 f"got {padding!r}")
            if padding == "same" and self.stride != (1, 1):
                raise ValueError("Conv2d: padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = pair(padding, "padding", "Conv2d", minimum=0)
        self.padding_mode = padding_mode
        add_affine_parameters(self, (out_channels, in_channels // groups) + self.kernel_size,
                              bias, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw the default initial weights again."""
        reset_affine(self.weight, self.bias)

    def forward(self, x):
        shape = input_shape(x)
        if len(shape) not in (3, 4):
            raise ValueError(f"{self._error_name()} expected a 4-d input (N, C, H, W) or a "
                             f"3-d one (C, H, W), got shape {shape}")
        layout = "(N, {}, H, W)" if len(shape) == 4 else "({}, H, W)"
        check_size(self, x, len(shape) - 3, self.in_channels,
                   f"{self.in_channels} channels, shape " + layout.format(self.in_channels))
        check_dtype(self, x, self.weight)
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text
